// Inpainting on a regular checkpoint through generate(), against A1111's StableDiffusionProcessingImg2Img with
// a mask rebuilt with Pillow, OpenCV, k-diffusion and the fixture's diffusers UNet/VAE (fx_inpaint.py): the
// prepared mask and image bit for bit, the final latents, and the pixels outside the mask unchanged.
import { join } from "node:path";
import { generate, type GenerationRequest } from "../../../../lib/diffusion/pipeline.ts";
import { binaryMask, blurMask } from "../../../../lib/diffusion/inpaint/mask.ts";
import { prepareInpaint } from "../../../../lib/diffusion/inpaint/prepare.ts";
import { featureParams, resolveRequest } from "../../../../lib/diffusion/request.ts";
import { SdModel } from "../../../../lib/diffusion/sd_model.ts";
import { loadImage, type RgbImage } from "../../../../lib/io/image.ts";
import { FIXTURES, MODELS, readRef, type TensorRef } from "../../../fixtures.ts";
import { relError } from "../samplers/reference.ts";
import { type ReferenceCase, referenceRequest } from "../reference_request.ts";

interface InpaintCase extends ReferenceCase {
  name: string;
  init_image: string;
  mask: string;
  mask_blur: number;
  inpainting_fill: number;
  inpaint_full_res: boolean;
  inpaint_full_res_padding: number;
  inpainting_mask_invert: number;
  latents: TensorRef;
  image_mask: TensorRef;
  prepared: TensorRef;
  image: TensorRef;
  inpainting_model: boolean;
}

const cases: InpaintCase[] =
  JSON.parse(Deno.readTextFileSync(join(FIXTURES, "refs", "inpaint", "manifest.json"))).cases;
const manifest = JSON.parse(Deno.readTextFileSync(join(FIXTURES, "refs", "inpaint", "manifest.json")));
let opened: Promise<SdModel> | undefined;
let openedInpaint: Promise<SdModel> | undefined;
const open = () => opened ??= SdModel.open(join(MODELS, "tiny-sd1"), { session: { threads: 1 } });

/** tiny-sd1 with the fixture's 9-channel UNet and model_index.json (its other parts are tiny-sd1's). */
async function assembleInpaintingModel(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "tiny-sd1-inpaint-" });
  globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
  const copy = async (from: string, to: string) => {
    for await (const e of Deno.readDir(from)) {
      if (e.isDirectory) {
        await Deno.mkdir(join(to, e.name), { recursive: true });
        await copy(join(from, e.name), join(to, e.name));
      } else await Deno.copyFile(join(from, e.name), join(to, e.name));
    }
  };
  await copy(join(MODELS, "tiny-sd1"), dir);
  await copy(join(FIXTURES, "refs", manifest.model), dir);
  return dir;
}
const openInpainting = () =>
  openedInpaint ??= assembleInpaintingModel().then((dir) => SdModel.open(dir, { session: { threads: 1 } }));

const bytes = (ref: TensorRef) => Deno.readFileSync(join(FIXTURES, "refs", ref.file));

async function image(path: string): Promise<RgbImage> {
  const loaded = await loadImage(join(FIXTURES, path));
  if (!loaded.ok) throw new Error(loaded.skip.message);
  return loaded.image;
}

async function requestOf(c: InpaintCase): Promise<GenerationRequest> {
  return {
    ...referenceRequest(c),
    initImage: await image(c.init_image),
    mask: await image(c.mask),
    maskBlur: c.mask_blur,
    inpaintingFill: c.inpainting_fill,
    inpaintFullRes: c.inpaint_full_res,
    inpaintFullResPadding: c.inpaint_full_res_padding,
    inpaintingMaskInvert: c.inpainting_mask_invert,
  };
}

function differing(a: Uint8Array, b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

for (const c of cases) {
  Deno.test(`inpaint ${c.name}: the prepared mask and image are A1111's, bit for bit`, async () => {
    const r = resolveRequest(await requestOf(c));
    const plan = prepareInpaint(r.initImage!, r.inpaint!, r.width, r.height, 8)!;
    const maskDiff = differing(plan.mask.data, bytes(c.image_mask));
    const imageDiff = differing(plan.image.data, bytes(c.prepared));
    if (maskDiff || imageDiff) throw new Error(`${maskDiff} mask bytes and ${imageDiff} image bytes differ`);
  });

  const kind = c.inpainting_model ? "inpainting checkpoint" : "regular checkpoint";
  Deno.test(`inpaint ${c.name} (${c.sampler}, ${kind}): final latents follow A1111 within 1e-4; outside the mask unchanged`, async () => {
    const request = await requestOf(c);
    const result = await generate(await (c.inpainting_model ? openInpainting() : open()), request);
    const [out] = result.images;
    const err = relError(out.latents, readRef(c.latents));
    console.log(`  ${c.name}: relative error ${err.toExponential(2)}`);
    if (!(err <= 1e-4)) throw new Error(`relative error ${err}`);
    const want = bytes(c.image);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(out.image.data[i] - want[i]));
    if (worst > 1) throw new Error(`final image differs from A1111's by up to ${worst} levels`);
    // Every pixel the blurred mask leaves at 0 is the source's own (A1111's overlay).
    const src = request.initImage!;
    const outside = blurMask(
      binaryMask(request.mask!, c.inpainting_mask_invert === 1),
      c.mask_blur,
      c.mask_blur,
    );
    let kept = 0;
    for (let p = 0; p < outside.data.length; p++) {
      if (outside.data[p] !== 0) continue;
      kept++;
      for (let k = 0; k < 3; k++) {
        if (out.image.data[3 * p + k] !== src.data[3 * p + k]) {
          throw new Error(`pixel ${p} outside the mask changed`);
        }
      }
    }
    if (kept === 0 || kept === outside.data.length) throw new Error(`the mask covers ${kept} pixels`);
  });
}

Deno.test("txt2img on an inpainting checkpoint: a full mask and the grey image's latents beside the latents", async () => {
  const t = manifest.txt2img;
  const result = await generate(await openInpainting(), {
    prompt: t.prompt,
    sampler: t.sampler,
    scheduler: t.schedule,
    steps: t.steps,
    cfgScale: t.cfg_scale,
    width: t.width,
    height: t.height,
    seed: t.seed,
  });
  const err = relError(result.images[0].latents, readRef(t.latents));
  console.log(`  relative error ${err.toExponential(2)}`);
  if (!(err <= 1e-4)) throw new Error(`relative error ${err}`);
});

Deno.test("the hires fix runs on an inpainting checkpoint (its second pass conditioned as txt2img)", async () => {
  const t = manifest.txt2img;
  const result = await generate(await openInpainting(), {
    prompt: t.prompt,
    sampler: "Euler",
    steps: 2,
    cfgScale: 7,
    width: 64,
    height: 64,
    seed: 1,
    enableHr: true,
    hrScale: 1.5,
  });
  if (result.images[0].image.width !== 96 || !result.images[0].latents.every(Number.isFinite)) {
    throw new Error("hires");
  }
});

Deno.test("inpainting infotext and field errors", async () => {
  const c = cases[1];
  const r = resolveRequest(await requestOf(c));
  const text = featureParams(r).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}: ${v}`).join(", ");
  if (text !== "Mask blur: 4, Inpaint area: Only masked, Masked area padding: 8, Masked content: fill") {
    throw new Error(text);
  }
  if (r.sampling === undefined) throw new Error("inpainting runs A1111's samplers");
  const base = await requestOf(c);
  const field = (change: Partial<GenerationRequest>) => {
    try {
      resolveRequest({ ...base, ...change });
    } catch (e) {
      return (e as { field?: string }).field;
    }
    return "accepted";
  };
  const small: RgbImage = { width: 8, height: 8, data: new Uint8Array(192) };
  for (
    const [change, want] of [
      [{ mask: small }, "mask"],
      [{ initImage: undefined }, "mask"],
      [{ maskBlur: -1 }, "maskBlur"],
      [{ inpaintingFill: 4 }, "inpaintingFill"],
      [{ inpaintingMaskInvert: 2 }, "inpaintingMaskInvert"],
      [{ inpaintFullResPadding: 1.5 }, "inpaintFullResPadding"],
    ] as [Partial<GenerationRequest>, string][]
  ) {
    const got = field(change);
    if (got !== want) throw new Error(`${JSON.stringify(Object.keys(change))}: ${got}, expected ${want}`);
  }
});

Deno.test("inpainting with a blank mask in 'only masked' mode runs plain img2img, as A1111 does", async () => {
  const c = cases[1];
  const blank: RgbImage = { width: 64, height: 64, data: new Uint8Array(64 * 64 * 3) };
  const r = resolveRequest({ ...(await requestOf(c)), mask: blank });
  if (prepareInpaint(r.initImage!, r.inpaint!, 64, 64, 8) !== undefined) throw new Error("expected no plan");
  const result = await generate(await open(), { ...(await requestOf(c)), mask: blank, steps: 2 });
  if (result.images[0].image.width !== 64) throw new Error("image");
});
