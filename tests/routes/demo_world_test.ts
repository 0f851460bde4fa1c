// Issue 11's guard through the A1111 API: on the demo world, the "Aesthetic embeddings" script with the pastel
// embedding gives images that differ from the base images of the same seed and sit closer to pastel on average.
import { deepStrictEqual as assertEquals } from "node:assert";
import { join } from "node:path";
import { decodeBase64Image } from "../../routes/sdapi.ts";
import {
  assertMovedTowardAesthetic,
  DEMO_AESTHETIC,
  DEMO_PROMPTS,
  DEMO_SEED,
  DEMO_STYLE,
  demoEmbeddingPath,
  type GuardPair,
} from "./demo_world.ts";
import { post, startServer } from "./server.ts";

Deno.test(
  "demo world through the API: personalized images move toward the aesthetic",
  { sanitizeOps: false, sanitizeResources: false },
  async () => {
    const s = await startServer({ model: "demo-world" });
    try {
      await Deno.copyFile(demoEmbeddingPath, join(s.embeddingsDir, `${DEMO_STYLE}.pt`));
      const { weight, steps, lr } = DEMO_AESTHETIC;
      const generate = async (prompt: string, aesthetic: boolean) => {
        const r = await post(`${s.url}/sdapi/v1/txt2img`, {
          prompt,
          seed: DEMO_SEED,
          steps: 20,
          sampler_name: "DDIM",
          cfg_scale: 7.5,
          // A1111's API defaults to 512×512; the demo world's native size is 64.
          width: 64,
          height: 64,
          ...(aesthetic && {
            alwayson_scripts: {
              "Aesthetic embeddings": { args: [weight, steps, lr, false, DEMO_STYLE, "", 0.1, false] },
            },
          }),
        });
        assertEquals(r.status, 200, await r.clone().text());
        const body = await r.json();
        assertEquals(JSON.parse(body.info).sd_model_name, "demo-world");
        return decodeBase64Image(body.images[0])!;
      };
      const pairs: GuardPair[] = [];
      for (const prompt of DEMO_PROMPTS) {
        pairs.push({
          prompt,
          base: await generate(prompt, false),
          personalized: await generate(prompt, true),
        });
      }
      await assertMovedTowardAesthetic(pairs);
    } finally {
      await s.close();
    }
  },
);
