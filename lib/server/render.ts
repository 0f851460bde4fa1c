// The WebUI's Renderer: hands each job to the render worker (lib/server/render_worker.ts), applies the
// extensions' conditioning hooks when the worker asks, mirrors interrupt and skip into shared memory the worker
// polls before every step, and forwards steps and previews to the GenerationState.
import { Buffer } from "node:buffer";
import { asHooked } from "../clip/conditioning_hook.ts";
import { InputError } from "../io/input_error.ts";
import type { Renderer, RenderOutput } from "./renderer.ts";
import { type FromWorker, INTERRUPTED, SKIPPED, type ToWorker } from "./render_protocol.ts";

let worker: Worker | undefined;

function renderWorker(): Worker {
  worker ??= new Worker(new URL("./render_worker.ts", import.meta.url), { type: "module" });
  return worker;
}

/** Stops the render worker (the server calls this when it shuts down). */
export function closeRenderer(): void {
  worker?.terminate();
  worker = undefined;
}

export const renderImages: Renderer = (input) => {
  const w = renderWorker();
  const control = new SharedArrayBuffer(8);
  const flags = new Int32Array(control);
  return new Promise<RenderOutput>((resolve, reject) => {
    // The state's flags are set by HTTP handlers on this thread; copy them where the worker can see them. A
    // skip is copied once per image: the worker clears it when the next image starts, before this thread hears
    // of that image, and copying it again then would skip that image too.
    let skipCopied = false;
    const mirror = setInterval(() => {
      if (input.state.interrupted) Atomics.store(flags, INTERRUPTED, 1);
      if (input.state.skipped && !skipCopied) {
        Atomics.store(flags, SKIPPED, 1);
        skipCopied = true;
      }
    }, 5);
    const finish = () => {
      clearInterval(mirror);
      w.onmessage = null;
      w.onerror = null;
    };
    w.onerror = (e) => {
      e.preventDefault();
      finish();
      closeRenderer();
      reject(new Error(`the render worker crashed: ${e.message}`));
    };
    w.onmessage = async (e: MessageEvent<FromWorker>) => {
      const msg = e.data;
      switch (msg.type) {
        case "hook": {
          const hook = input.conditioningHooks[msg.index];
          let reply: ToWorker;
          try {
            const { z, pooled } = asHooked(
              await hook({
                z: msg.z,
                chunkIds: msg.chunkIds,
                negative: msg.negative,
                encoders: msg.encoders,
                pooled: msg.pooled,
              }),
            );
            reply = { type: "hook-result", id: msg.id, z, pooled };
          } catch (err) {
            reply = { type: "hook-result", id: msg.id, error: (err as Error).message };
          }
          w.postMessage(reply);
          return;
        }
        case "batch-start":
          input.state.nextImage();
          skipCopied = false;
          return;
        case "step":
          input.state.setStep(msg.step, msg.steps);
          return;
        case "preview":
          input.state.setPreview(Buffer.from(msg.preview).toString("base64"));
          return;
        case "done":
          finish();
          resolve({ images: msg.images, interrupted: msg.interrupted, stepsDone: msg.stepsDone });
          return;
        case "error":
          finish();
          reject(msg.loc ? new InputError(msg.message, msg.loc) : new Error(msg.message));
      }
    };
    // The pipeline's request goes as it is; only the model's name stays here (the worker gets its folder).
    const { model: _name, initImage, mask, ...request } = input.request;
    const job: ToWorker = {
      type: "render",
      mode: input.mode,
      modelDir: input.model.path,
      refinerDir: input.refiner?.path,
      threads: input.threads ?? 0,
      device: input.device ?? "cpu",
      request,
      initImage,
      mask,
      hooks: input.conditioningHooks.length,
      control,
      releaseMemory: input.releaseMemory ?? false,
    };
    w.postMessage(job);
  });
};
