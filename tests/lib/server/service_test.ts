// WebUIService: the checkpoints it offers are exactly what the pipeline can run; asking for one it cannot run
// is an input problem that names the model and why.
import { deepStrictEqual as assertEquals, rejects } from "node:assert";
import { join } from "node:path";
import { InputError } from "../../../lib/io/input_error.ts";
import { SDXL_UNSUPPORTED } from "../../../lib/models/registry.ts";
import { WebUIService } from "../../../lib/server/service.ts";
import type { RenderInput } from "../../../lib/server/renderer.ts";
import { jobRequest } from "../../job_request.ts";
import { linkFixture } from "../models/model_dirs.ts";

Deno.test("an SDXL folder is never offered as a checkpoint; asking for it says why", async () => {
  const tmp = await Deno.makeTempDir();
  const rendered: RenderInput[] = [];
  try {
    await linkFixture("tiny-sd1", join(tmp, "models", "sd15"));
    await linkFixture("tiny-sd1-clip", join(tmp, "models", "sd15-clip"));
    await linkFixture("tiny-sdxl", join(tmp, "models", "xl"));
    const svc = await WebUIService.create({
      modelsDir: join(tmp, "models"),
      embeddingsDir: join(tmp, "embeddings"),
      outputsDir: join(tmp, "outputs"),
      defaultModel: "xl",
      render: (input) => {
        rendered.push(input);
        return Promise.resolve({ images: [], interrupted: false, stepsDone: 0 });
      },
    });
    assertEquals(svc.checkpoints().map((m) => m.name), ["sd15"]);
    assertEquals(svc.options.sd_model_checkpoint, "sd15", "an unusable default falls back to a usable one");
    const request = jobRequest({ model: "xl" });
    await rejects(
      () => svc.generate({ mode: "txt2img", request, scripts: [] }),
      (e: Error) =>
        e instanceof InputError && e.loc[0] === "model" &&
        e.message === `xl cannot be used: ${SDXL_UNSUPPORTED}`,
    );
    await rejects(
      () => svc.setOptions({ sd_model_checkpoint: "xl" }),
      /xl cannot be used: SDXL is not supported/,
    );
    assertEquals(rendered.length, 0, "nothing was sent to the pipeline");
    await svc.close();
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
