// One part of PartedAdam's update (parted_adam.ts), on its own thread. Each message brings the part's weights and
// gradient in one transferred buffer ([weights | gradient]); the moments stay here, in the kernel's memory, for
// the worker's life (one optimization). The buffer goes back updated.
import { AdamKernel } from "./adam.ts";

export interface PartStep {
  buffer: ArrayBuffer;
  floats: number;
  step: number;
  lr: number;
}

let state: { kernel: AdamKernel; m: Float32Array; v: Float32Array } | undefined;

/** The worker's global scope, as far as this module uses it. */
const scope = self as unknown as {
  onmessage: (e: MessageEvent<PartStep>) => void;
  postMessage(message: unknown, transfer: Transferable[]): void;
};

scope.onmessage = (e) => {
  const { buffer, floats, step, lr } = e.data;
  if (!state) {
    const kernel = AdamKernel.create(2 * floats);
    state = { kernel, m: kernel.alloc(floats), v: kernel.alloc(floats) };
  }
  const p = new Float32Array(buffer, 0, floats);
  const g = new Float32Array(buffer, floats * 4, floats);
  state.kernel.update(p, state.m, state.v, g, step, lr);
  scope.postMessage({ buffer }, [buffer]);
};
