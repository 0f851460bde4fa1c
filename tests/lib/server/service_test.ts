// WebUIService: the checkpoints it offers are exactly what the pipeline can run (SDXL included); asking for one
// it cannot run is an input problem that names the model and why.
import { deepStrictEqual as assertEquals, rejects } from "node:assert";
import { join } from "node:path";
import { InputError } from "../../../lib/io/input_error.ts";
import { WebUIService } from "../../../lib/server/service.ts";
import type { RenderInput } from "../../../lib/server/renderer.ts";
import { jobRequest } from "../../job_request.ts";
import { linkFixture } from "../models/model_dirs.ts";

Deno.test("a broken folder is never offered as a checkpoint; asking for it says why; SDXL is offered", async () => {
  const tmp = await Deno.makeTempDir();
  const rendered: RenderInput[] = [];
  try {
    await linkFixture("tiny-sd1", join(tmp, "models", "sd15"));
    await linkFixture("tiny-sd1-clip", join(tmp, "models", "sd15-clip"));
    await linkFixture("tiny-sdxl", join(tmp, "models", "xl"));
    await linkFixture("tiny-sd1", join(tmp, "models", "broken"));
    await Deno.remove(join(tmp, "models", "broken", "unet", "model.onnx"));
    const svc = await WebUIService.create({
      modelsDir: join(tmp, "models"),
      embeddingsDir: join(tmp, "embeddings"),
      outputsDir: join(tmp, "outputs"),
      defaultModel: "broken",
      render: (input) => {
        rendered.push(input);
        return Promise.resolve({ images: [], interrupted: false, stepsDone: 0 });
      },
    });
    assertEquals(svc.checkpoints().map((m) => m.name), ["sd15", "xl"]);
    assertEquals(svc.options.sd_model_checkpoint, "sd15", "an unusable default falls back to a usable one");
    const request = jobRequest({ model: "broken" });
    await rejects(
      () => svc.generate({ mode: "txt2img", request, scripts: [] }),
      (e: Error) =>
        e instanceof InputError && e.loc[0] === "model" &&
        e.message === "broken cannot be used: unet/model.onnx is missing",
    );
    await rejects(
      () => svc.setOptions({ sd_model_checkpoint: "broken" }),
      /broken cannot be used: unet\/model.onnx is missing/,
    );
    assertEquals(rendered.length, 0, "nothing was sent to the pipeline");
    await svc.close();
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
