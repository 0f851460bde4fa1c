// Issue 11's guard through the A1111 API: on the demo world, the "Aesthetic embeddings" script with the pastel
// embedding gives an image that differs from the base image of the same seed and sits closer to pastel.
import { deepStrictEqual as assertEquals } from "node:assert";
import { join } from "node:path";
import { decodeBase64Image } from "../../routes/sdapi.ts";
import {
  assertMovedTowardStyle,
  DEMO_AESTHETIC,
  DEMO_PROMPT,
  DEMO_SEED,
  DEMO_STYLE,
  demoEmbeddingPath,
} from "./demo_world.ts";
import { post, startServer } from "./server.ts";

Deno.test(
  "demo world through the API: a personalized image moves toward the aesthetic",
  { sanitizeOps: false, sanitizeResources: false },
  async () => {
    const s = await startServer({ model: "demo-world" });
    try {
      await Deno.copyFile(demoEmbeddingPath, join(s.embeddingsDir, `${DEMO_STYLE}.pt`));
      const payload = (aesthetic: boolean) => ({
        prompt: DEMO_PROMPT,
        seed: DEMO_SEED,
        steps: 20,
        sampler_name: "DDIM",
        cfg_scale: 7.5,
        ...(aesthetic && {
          alwayson_scripts: {
            "Aesthetic embeddings": {
              args: [
                DEMO_AESTHETIC.weight,
                DEMO_AESTHETIC.steps,
                DEMO_AESTHETIC.lr,
                false,
                DEMO_STYLE,
                "",
                0.1,
                false,
              ],
            },
          },
        }),
      });
      const images: Uint8Array[] = [];
      for (const aesthetic of [false, true]) {
        const r = await post(`${s.url}/sdapi/v1/txt2img`, payload(aesthetic));
        assertEquals(r.status, 200, await r.clone().text());
        const body = await r.json();
        assertEquals(JSON.parse(body.info).sd_model_name, "demo-world");
        images.push(decodeBase64Image(body.images[0])!);
      }
      await assertMovedTowardStyle(images[0], images[1]);
    } finally {
      await s.close();
    }
  },
);
