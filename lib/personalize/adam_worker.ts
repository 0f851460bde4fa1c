// One part of PartedAdam's update (parted_adam.ts), on its own thread. Each message brings the part's weights and
// gradient in one transferred buffer ([weights | gradient]); the moments stay here, in the kernel's memory, for
// the thread's life, and are zeroed at each optimization's first step. The buffer goes back updated.
import { parentPort } from "node:worker_threads";
import { AdamKernel } from "./adam.ts";

export interface PartStep {
  buffer: ArrayBuffer;
  floats: number;
  /** 1 starts a new optimization: the moments are zeroed before the update. */
  step: number;
  lr: number;
}

export interface PartReply {
  buffer: ArrayBuffer;
}

let state: { kernel: AdamKernel; m: Float32Array; v: Float32Array } | undefined;

const port = parentPort!;
port.on("message", ({ buffer, floats, step, lr }: PartStep) => {
  if (state?.m.length !== floats) {
    const kernel = AdamKernel.create(2 * floats);
    state = { kernel, m: kernel.alloc(floats), v: kernel.alloc(floats) };
  } else if (step === 1) {
    state.m.fill(0);
    state.v.fill(0);
  }
  const p = new Float32Array(buffer, 0, floats);
  const g = new Float32Array(buffer, floats * 4, floats);
  state.kernel.update(p, state.m, state.v, g, step, lr);
  const reply: PartReply = { buffer };
  port.postMessage(reply, [buffer]);
});
