// The hires fix through generate() against A1111's StableDiffusionProcessingTxt2Img rebuilt from diffusers parts
// and k-diffusion (tests/fixtures/fx_hires.py): every latent upscaler, the pixel ones (None, Lanczos, Nearest),
// hr_resize with its crop, a second pass with its own sampler, steps and prompt, and diffusers' schedulers.
import { join } from "node:path";
import { generate, type GenerationRequest } from "../../../../lib/diffusion/pipeline.ts";
import { featureParams, resolveRequest } from "../../../../lib/diffusion/request.ts";
import { SdModel } from "../../../../lib/diffusion/sd_model.ts";
import { FIXTURES, MODELS, readRef, type TensorRef } from "../../../fixtures.ts";
import { relError } from "../samplers/reference.ts";
import { type ReferenceCase, referenceRequest } from "../reference_request.ts";

interface HiresCase extends ReferenceCase {
  name: string;
  hr_upscaler: string;
  hr_scale: number;
  hr_resize_x: number;
  hr_resize_y: number;
  hr_sampler: string | null;
  hr_schedule: string | null;
  hr_second_pass_steps: number;
  hr_prompt: string | null;
  first_latents: TensorRef;
  latents: TensorRef;
}

const cases: HiresCase[] =
  JSON.parse(Deno.readTextFileSync(join(FIXTURES, "refs", "hires", "manifest.json"))).cases;
let opened: Promise<SdModel> | undefined;
const open = () => opened ??= SdModel.open(join(MODELS, "tiny-sd1"), { session: { threads: 1 } });

function requestOf(c: HiresCase): GenerationRequest {
  return {
    ...referenceRequest(c),
    enableHr: true,
    hrUpscaler: c.hr_upscaler,
    hrScale: c.hr_scale,
    hrResizeX: c.hr_resize_x,
    hrResizeY: c.hr_resize_y,
    hrSamplerName: c.hr_sampler ?? undefined,
    hrScheduler: c.hr_schedule ?? undefined,
    hrSecondPassSteps: c.hr_second_pass_steps,
    hrPrompt: c.hr_prompt ?? undefined,
  };
}

for (const c of cases) {
  Deno.test(`hires ${c.name} (${c.hr_upscaler}): final latents follow A1111's two passes within 1e-4`, async () => {
    let calls = 0;
    const result = await generate(await open(), requestOf(c), { onStep: () => calls++ });
    const [image] = result.images;
    const expected = readRef(c.latents);
    const err = relError(image.latents, expected);
    console.log(`  ${c.name}: relative error ${err.toExponential(2)}`);
    if (!(err <= 1e-4)) throw new Error(`relative error ${err}`);
    const [, , h, w] = c.latents.shape;
    if (image.image.width !== w * 8 || image.image.height !== h * 8) {
      throw new Error(`image ${image.image.width}x${image.image.height}, expected ${w * 8}x${h * 8}`);
    }
    if (!image.complete || calls <= c.steps) throw new Error(`progress of both passes: ${calls} steps`);
  });
}

Deno.test("hires infotext: A1111's fields, only those that differ from the first pass", () => {
  const base = { prompt: "a", sampler: "Euler a", steps: 20, cfgScale: 7, width: 512, height: 512, seed: 1 };
  const plain = resolveRequest({ ...base, enableHr: true });
  if (JSON.stringify(featureParams(plain).filter(([, v]) => v !== undefined)) !== '[["Hires upscale",2]]') {
    throw new Error(JSON.stringify(featureParams(plain)));
  }
  const full = resolveRequest({
    ...base,
    enableHr: true,
    hrResizeX: 768,
    hrResizeY: 640,
    hrUpscaler: "Latent (nearest-exact)",
    hrSecondPassSteps: 10,
    hrSamplerName: "DPM++ 2M",
    hrScheduler: "Karras",
    hrPrompt: "b",
  });
  const text = featureParams(full).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}: ${v}`).join(
    ", ",
  );
  const want =
    "Hires sampler: DPM++ 2M, Hires schedule type: Karras, Hires prompt: b, Hires resize: 768x640, " +
    "Hires steps: 10, Hires upscaler: Latent (nearest-exact)";
  if (text !== want) throw new Error(text);
  if (full.hires!.target.width !== 768 || full.hires!.target.height !== 640) throw new Error("target");
});

Deno.test("hires request errors name the field", () => {
  const base = { prompt: "a", sampler: "Euler", steps: 4, cfgScale: 7, width: 64, height: 64, seed: 1 };
  const field = (change: Partial<GenerationRequest>) => {
    try {
      resolveRequest({ ...base, enableHr: true, ...change });
    } catch (e) {
      return (e as { field?: string }).field;
    }
    return "accepted";
  };
  const expect: [Partial<GenerationRequest>, string][] = [
    [{ hrUpscaler: "ESRGAN_4x" }, "hrUpscaler"],
    [{ hrScale: 0.5 }, "hrScale"],
    [{ hrScale: 1.3 }, "hrScale"], // 83.2 → 83: not a multiple of 8
    [{ hrResizeX: -8 }, "hrResizeX"],
    [{ hrResizeY: 100 }, "hrResizeY"],
    [{ hrSecondPassSteps: 1.5 }, "hrSecondPassSteps"],
    [{ hrSamplerName: "Nope" }, "hrSamplerName"],
    [{ hrScheduler: "Nope" }, "hrScheduler"],
    [{ denoisingStrength: 0 }, "denoisingStrength"],
    [{ hrScale: 1.5 }, "accepted"],
  ];
  for (const [change, want] of expect) {
    const got = field(change);
    if (got !== want) throw new Error(`${JSON.stringify(change)}: ${got}, expected ${want}`);
  }
});

Deno.test("hires fix with the personalized conditioning: the hook runs once per prompt, the second pass reuses it", async () => {
  const seen: string[] = [];
  const result = await generate(await open(), {
    prompt: "a lighthouse",
    sampler: "Euler",
    scheduler: "Uniform",
    steps: 3,
    cfgScale: 7,
    width: 64,
    height: 64,
    seed: 4,
    enableHr: true,
    hrSecondPassSteps: 2,
    denoisingStrength: 0.5,
  }, { conditioning: [(c) => (seen.push(c.negative ? "negative" : "prompt"), Promise.resolve(c.z))] });
  if (seen.join() !== "prompt,negative") throw new Error(`hook calls: ${seen}`);
  if (result.images[0].image.width !== 128) throw new Error("upscaled");
});
