// A1111 single files dropped into the models folder or an A1111 installation (serve --a1111-dir): listed by
// /sdapi/v1/sd-models with A1111's title and hashes, imported by the first txt2img that uses them (once: the
// second does not import again, and two concurrent first uses share one import), picked up by
// refresh-checkpoints when added later; a bad file is listed with its reason and choosing it is a 422.
import { deepStrictEqual as assertEquals, ok } from "node:assert";
import { join } from "node:path";
import { parseInfotext } from "../../lib/io/infotext.ts";
import { readPngParameters } from "../../lib/io/png.ts";
import { a1111Source } from "../../lib/models/single_file/dropped.ts";
import { serve } from "../../main.ts";
import { decodeBase64Image } from "../../routes/sdapi.ts";
import { FIXTURES, MODELS } from "../fixtures.ts";
import { post } from "./server.ts";

const SINGLE = join(FIXTURES, "single_file");
const hashes =
  JSON.parse(Deno.readTextFileSync(join(FIXTURES, "refs", "single_file", "manifest.json"))).hashes;
const ST = hashes["tiny-sd1.safetensors"].sha256 as string;
const CKPT = hashes["tiny-sd1.ckpt"].sha256 as string;
// The tiny fixtures' heads and groups are not SD's released ones: their diffusers config says them.
const config = join(MODELS, "tiny-sd1-torch");

const txt2img = (checkpoint: string, seed: number) => ({
  prompt: "a lighthouse",
  steps: 2,
  width: 64,
  height: 64,
  seed,
  override_settings: { sd_model_checkpoint: checkpoint },
});

Deno.test(
  "API: A1111 single files are listed, imported on first use once, rescanned, refused with the reason",
  {
    sanitizeOps: false,
    sanitizeResources: false,
  },
  async () => {
    const root = await Deno.makeTempDir({ prefix: "webui-single-" });
    const modelsDir = join(root, "models");
    const a1111 = join(root, "webui");
    const sdDir = join(a1111, "models", "Stable-diffusion");
    await Deno.mkdir(modelsDir, { recursive: true });
    await Deno.mkdir(sdDir, { recursive: true });
    await Deno.copyFile(join(SINGLE, "tiny-sd1.safetensors"), join(modelsDir, "mine.safetensors"));
    await Deno.copyFile(join(SINGLE, "tiny-sd1.ckpt"), join(sdDir, "lightning.ckpt"));
    const truncated = (await Deno.readFile(join(SINGLE, "tiny-sd1.safetensors"))).subarray(0, 100_000);
    await Deno.writeFile(join(sdDir, "broken.safetensors"), truncated);
    const log: string[] = [];
    const server = await serve({
      port: 0,
      hostname: "127.0.0.1",
      modelsDir,
      singleFileSources: [{ dir: modelsDir, config }, { ...a1111Source(a1111), config }],
      embeddingsDir: join(root, "embeddings"),
      outputsDir: join(root, "outputs"),
      log: (line) => log.push(line),
    });
    const url = `${server.url}/sdapi/v1`;
    const imports = (file: string) =>
      log.filter((l) => l.startsWith(`importing ${file} `) && l.includes(" into ")).length;
    try {
      // refresh-checkpoints answers once the files are hashed, as A1111's list carries the hash.
      assertEquals((await post(`${url}/refresh-checkpoints`, {})).status, 200);
      const listed = await (await fetch(`${url}/sd-models`)).json();
      assertEquals(listed, [
        {
          title: `mine.safetensors [${ST.slice(0, 10)}]`,
          model_name: "mine",
          hash: ST.slice(0, 10),
          sha256: ST,
          filename: join(modelsDir, "mine.safetensors"),
          config: null,
        },
        {
          title: `lightning.ckpt [${CKPT.slice(0, 10)}]`,
          model_name: "lightning",
          hash: CKPT.slice(0, 10),
          sha256: CKPT,
          filename: join(sdDir, "lightning.ckpt"),
          config: null,
        },
      ]);

      // The selected checkpoint (mine, the first) is imported at start-up, as A1111 loads it; by title, by
      // model_name or by name, it is imported once.
      const mine = join(modelsDir, "mine.safetensors");
      const first = await Promise.all([
        post(`${url}/txt2img`, txt2img(`mine.safetensors [${ST.slice(0, 10)}]`, 1)),
        post(`${url}/txt2img`, txt2img("mine", 2)),
      ]);
      for (const r of first) assertEquals(r.status, 200, await r.clone().text());
      const again = await post(`${url}/txt2img`, txt2img("mine.safetensors", 3));
      assertEquals(again.status, 200);
      assertEquals(imports(mine), 1);
      const png = decodeBase64Image((await again.json()).images[0])!;
      const fields = Object.fromEntries(parseInfotext(readPngParameters(png)!).params);
      assertEquals([fields["Model hash"], fields.Model], [ST.slice(0, 10), "mine"]);
      ok(log.some((l) => /^importing mine\.safetensors: unet 100%$/.test(l)), log.join("\n"));
      // The Lightning training checkpoint from the A1111 folder is imported by its first use: two requests at
      // once share one import, and the task shows A1111's "loading model" state meanwhile.
      const lightning = join(sdDir, "lightning.ckpt");
      const loading: { textinfo: string; progress: number; sampling_steps: number }[] = [];
      let polling = true;
      const poll = (async () => {
        while (polling) {
          const p = await post(`${server.url}/internal/progress`, {
            id_task: "task(load)",
            id_live_preview: -1,
          });
          const snap = await p.json();
          if (snap.textinfo?.startsWith("Loading model")) loading.push(snap);
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      const both = await Promise.all([
        post(`${url}/txt2img`, { ...txt2img("lightning.ckpt", 4), force_task_id: "task(load)" }),
        post(`${url}/txt2img`, txt2img("lightning", 5)),
      ]);
      polling = false;
      await poll;
      for (const r of both) assertEquals(r.status, 200, await r.clone().text());
      assertEquals(imports(lightning), 1);
      ok(loading.length > 0 && loading.every((s) => s.textinfo.startsWith("Loading model lightning.ckpt")));
      // Loading reports the import\'s progress, not sampling steps.
      ok(
        loading.every((s) => s.sampling_steps === 0 && s.progress >= 0 && s.progress <= 1),
        JSON.stringify(loading),
      );

      // A bad file is listed (not offered by sd-models) with its reason; choosing it is a 422 saying it.
      const reason = "broken.safetensors is truncated: it has 100000 bytes but its tensors need 2181698";
      const page = await (await fetch(server.url)).text();
      ok(page.includes(`broken.safetensors (cannot be used: ${reason})`), "the selector lists the bad file");
      const chosen = await post(`${url}/options`, { sd_model_checkpoint: "broken.safetensors" });
      assertEquals(chosen.status, 422);
      assertEquals((await chosen.json()).detail[0].msg, `broken.safetensors cannot be used: ${reason}`);

      // A file added later appears after refresh-checkpoints; the same bytes under another name reuse the import.
      await Deno.copyFile(join(SINGLE, "tiny-sd1.safetensors"), join(sdDir, "later.safetensors"));
      await post(`${url}/refresh-checkpoints`, {});
      const names = (await (await fetch(`${url}/sd-models`)).json()).map((m: { title: string }) => m.title);
      assertEquals(names.includes(`later.safetensors [${ST.slice(0, 10)}]`), true, names.join(", "));
      assertEquals((await post(`${url}/txt2img`, txt2img("later.safetensors", 6))).status, 200);
      assertEquals(imports(join(sdDir, "later.safetensors")), 0);
    } finally {
      await server.shutdown();
      await Deno.remove(root, { recursive: true });
    }
  },
);
