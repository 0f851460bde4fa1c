// The WebAssembly Adam kernel: torch.optim.Adam's update formulas (checked in float64), the exact float32
// rounding of torch's op order on every element (SIMD lanes and scalar tail alike), buffers in its own memory
// or staged, and the embedded binary being the one adam.wat assembles to.
import { deepStrictEqual as assertEquals, ok, throws } from "node:assert";
import { AdamKernel, BETA1, BETA2, EPS, FlatAdam } from "../../../lib/personalize/adam.ts";
import { ADAM_WASM_BASE64 } from "../../../lib/personalize/adam_wasm.ts";
import { assembleAdam, embeddingModule } from "../../../lib/personalize/adam_wasm_build.ts";
import { assertClose } from "../../fixtures.ts";

const N = 700_001; // odd, so the scalar tail runs, and more than one staging chunk

function gradient(g: Float32Array, step: number) {
  for (let i = 0; i < g.length; i++) g[i] = Math.cos(i * step) * (i % 7 === 0 ? 0 : 1);
}

for (const where of ["kernel memory", "staged"] as const) {
  Deno.test(`FlatAdam follows torch's Adam for several steps with changing gradients (${where})`, () => {
    const kernel = AdamKernel.create(where === "staged" ? 2 * N : 4 * N); // the moments always live in it
    const alloc = (n: number) => where === "staged" ? new Float32Array(n) : kernel.alloc(n);
    const p = alloc(N);
    const g = alloc(N);
    for (let i = 0; i < N; i++) p[i] = Math.sin(i);
    const adam = new FlatAdam(kernel, p, g);
    const ref = Float64Array.from(p);
    const m = new Float64Array(N);
    const v = new Float64Array(N);
    const lr = 1e-2;
    for (let step = 1; step <= 5; step++) {
      gradient(g, step);
      adam.step(lr);
      const bc1 = 1 - BETA1 ** step;
      const bc2 = 1 - BETA2 ** step;
      for (let i = 0; i < N; i++) {
        m[i] = m[i] + (g[i] - m[i]) * (1 - BETA1);
        v[i] = v[i] * BETA2 + g[i] * g[i] * (1 - BETA2);
        ref[i] -= (lr / bc1) * m[i] / (Math.sqrt(v[i]) / Math.sqrt(bc2) + EPS);
      }
      assertClose(p, ref, 1e-6, `step ${step}`);
    }
    adam.reset();
    ok(adam.m.every((x) => x === 0) && adam.v.every((x) => x === 0), "reset zeroes the moments");
  });
}

Deno.test("every element is rounded as torch's float32 ops round it, in lanes and tail alike", () => {
  const n = 1027;
  const kernel = AdamKernel.create(4 * n);
  const [p, m, v, g] = [0, 1, 2, 3].map(() => kernel.alloc(n));
  for (let i = 0; i < n; i++) {
    [p[i], m[i], v[i], g[i]] = [Math.sin(i), Math.cos(i) / 9, (i % 5) / 1e4, Math.tan(i)];
  }
  const f = Math.fround;
  const [ep, em, ev] = [Float32Array.from(p), Float32Array.from(m), Float32Array.from(v)];
  const step = 3, lr = 1e-4;
  const negStep = f(-lr / (1 - BETA1 ** step)), bc2Sqrt = f(Math.sqrt(1 - BETA2 ** step));
  for (let i = 0; i < n; i++) {
    em[i] = f(em[i] + f(f(g[i] - em[i]) * f(1 - BETA1)));
    ev[i] = f(f(ev[i] * f(BETA2)) + f(f(g[i] * g[i]) * f(1 - BETA2)));
    ep[i] = f(ep[i] + f(f(em[i] / f(f(f(Math.sqrt(ev[i])) / bc2Sqrt) + f(EPS))) * negStep));
  }
  kernel.update(p, m, v, g, step, lr);
  assertEquals([p, m, v], [ep, em, ev]);
});

Deno.test("the kernel's memory is sized at creation; mismatched buffers are refused", () => {
  const kernel = AdamKernel.create(8);
  kernel.alloc(8);
  throws(() => kernel.alloc(1 << 20), /no room for 1048576 more floats/);
  const a = new Float32Array(4);
  throws(() => kernel.update(a, a, a, new Float32Array(3), 1, 1e-4), /differ in length/);
});

Deno.test("the embedded binary is adam.wat assembled (run `deno task wasm` after editing adam.wat)", async () => {
  const bytes = await assembleAdam();
  assertEquals(embeddingModule(bytes).includes(ADAM_WASM_BASE64), true);
});
