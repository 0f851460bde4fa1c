// The render worker: runs the diffusion pipeline for one job at a time, asking the main thread to apply the
// extensions' conditioning hooks, and reporting batches, steps and previews back.
import type { HookedConditioning } from "../clip/conditioning_hook.ts";
import { type ConditioningHook, generate } from "../diffusion/pipeline.ts";
import { SdModel } from "../diffusion/sd_model.ts";
import { SdxlRefiner } from "../diffusion/refiner.ts";
import { decodeImage, encodePng, type RgbImage } from "../io/image.ts";
import { InputError } from "../io/input_error.ts";
import type { Device } from "../onnx/session.ts";
import { type FromWorker, INTERRUPTED, type RenderJob, SKIPPED, type ToWorker } from "./render_protocol.ts";

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker): void;
};

let open: { key: string; model: SdModel } | undefined;
let openRefiner: { key: string; model: SdxlRefiner } | undefined;
const pendingHooks = new Map<
  number,
  { resolve: (r: HookedConditioning) => void; reject: (e: Error) => void }
>();
let nextHook = 0;

let fellBack = false;

async function modelFor(dir: string, threads: number, device: Device): Promise<SdModel> {
  const key = JSON.stringify([dir, threads, device]);
  if (open?.key !== key) {
    await open?.model.release();
    open = undefined;
    // A provider checked at start may still refuse a model (an operator it lacks): that model runs on the CPU.
    const onFallback = (message: string) => {
      if (!fellBack) console.error(`render: ${message}`);
      fellBack = true;
    };
    open = { key, model: await SdModel.open(dir, { session: { threads, device, onFallback } }) };
  }
  return open.model;
}

/** The model's sessions closed, so their memory goes back to the system; the next job opens them again. */
async function releaseModel(): Promise<void> {
  const model = open?.model;
  open = undefined;
  await model?.release();
  const refiner = openRefiner?.model;
  openRefiner = undefined;
  await refiner?.release();
}

/** The refiner, kept open beside the model while jobs ask for the same one. */
async function refinerFor(dir: string | undefined, threads: number): Promise<SdxlRefiner | undefined> {
  const key = JSON.stringify([dir, threads]);
  if (openRefiner?.key !== key) {
    await openRefiner?.model.release();
    openRefiner = undefined;
    if (dir) openRefiner = { key, model: await SdxlRefiner.open(dir, { threads }) };
  }
  return openRefiner?.model;
}

async function render(job: RenderJob): Promise<void> {
  let done: FromWorker;
  try {
    done = await renderJob(job);
  } finally {
    if (job.releaseMemory) await releaseModel();
  }
  scope.postMessage(done);
}

async function renderJob(job: RenderJob): Promise<FromWorker> {
  const control = new Int32Array(job.control);
  const model = await modelFor(job.modelDir, job.threads, job.device);
  const refiner = await refinerFor(job.refinerDir, job.threads);
  const r = job.request;
  let initImage: RgbImage | undefined;
  if (job.mode === "img2img") {
    if (!job.initImage) throw new Error("img2img needs an init image");
    const decoded = await decodeImage(job.initImage);
    if (!decoded.ok) {
      throw new InputError(`the init image cannot be used: ${decoded.skip.message}`, "initImage");
    }
    initImage = decoded.image;
  }
  let mask: RgbImage | undefined;
  if (job.mask) {
    const decoded = await decodeImage(job.mask);
    if (!decoded.ok) throw new InputError(`the mask cannot be used: ${decoded.skip.message}`, "mask");
    mask = decoded.image;
  }
  // Extensions' hooks live on the main thread; each proxy here asks it to apply hook `index`.
  const hooks: ConditioningHook[] = Array.from(
    { length: job.hooks },
    (_, index) => (c) =>
      new Promise<HookedConditioning>((resolve, reject) => {
        const id = nextHook++;
        pendingHooks.set(id, { resolve, reject });
        scope.postMessage({ type: "hook", id, index, ...c });
      }),
  );
  let lastPreview = 0;
  const result = await generate(model, {
    ...r,
    ...(initImage ? { initImage } : {}),
    ...(mask ? { mask } : {}),
  }, {
    conditioning: hooks,
    refiner,
    onBatchStart: () => {
      Atomics.store(control, SKIPPED, 0);
      scope.postMessage({ type: "batch-start" });
    },
    onStep: (p) => {
      scope.postMessage({ type: "step", step: p.step, steps: p.steps });
      // A preview every half second is enough for the page and keeps encoding off most steps.
      if (performance.now() - lastPreview > 500 || p.step === p.steps) {
        lastPreview = performance.now();
        encodePng(p.preview()).then((preview) => scope.postMessage({ type: "preview", preview }));
      }
    },
    control: {
      get interrupted() {
        return Atomics.load(control, INTERRUPTED) === 1;
      },
      get skipped() {
        return Atomics.load(control, SKIPPED) === 1;
      },
    },
  });
  const images = [];
  for (const img of result.images) {
    images.push({
      png: await encodePng(img.image),
      seed: img.seed,
      subseed: img.subseed,
      refined: img.refined,
    });
  }
  return {
    type: "done",
    images,
    interrupted: result.interrupted,
    stepsDone: result.images.at(-1)?.stepsDone ?? 0,
  };
}

scope.onmessage = (e) => {
  const msg = e.data;
  if (msg.type === "hook-result") {
    const p = pendingHooks.get(msg.id);
    pendingHooks.delete(msg.id);
    if (msg.error !== undefined) p?.reject(new Error(msg.error));
    else p?.resolve({ z: msg.z!, pooled: msg.pooled });
    return;
  }
  render(msg).catch((err: Error) =>
    scope.postMessage({
      type: "error",
      message: err.message,
      loc: err instanceof InputError ? err.loc : undefined,
    })
  );
};
