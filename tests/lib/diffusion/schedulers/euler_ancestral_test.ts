import { EulerAncestralDiscreteScheduler } from "../../../../lib/diffusion/schedulers/euler_ancestral.ts";
import { TorchGenerator } from "../../../../lib/diffusion/torch_rng.ts";
import { assertThrows, referenceCases, testAgainstDiffusers } from "./reference.ts";

testAgainstDiffusers("euler_a", "EulerAncestralDiscreteScheduler");

const config = referenceCases("euler_a")[0].config;

Deno.test("Euler a draws one noise tensor per step from the generator, so the seed decides the result", () => {
  const run = (seed: number) => {
    const s = new EulerAncestralDiscreteScheduler(config);
    s.setTimesteps(4);
    const rng = new TorchGenerator(seed);
    let x: Float32Array = new Float32Array(32).fill(1);
    for (const t of s.timesteps) x = s.step(s.scaleModelInput(x, t).map((v) => 0.2 * v), t, x, rng);
    return { x, next: rng.nextUint32() };
  };
  const a = run(5);
  const b = run(5);
  const c = run(6);
  if (!a.x.every((v, i) => v === b.x[i]) || a.next !== b.next) throw new Error("not reproducible");
  if (a.x.every((v, i) => v === c.x[i])) throw new Error("seed ignored");
  // Four steps of 32 uniforms each: the generator advanced by exactly 128 draws.
  const g = new TorchGenerator(5);
  for (let i = 0; i < 128; i++) g.nextUint32();
  if (g.nextUint32() !== a.next) throw new Error("noise draws do not consume the stream like torch.randn");
  const s = new EulerAncestralDiscreteScheduler(config);
  s.setTimesteps(2);
  assertThrows(
    () => s.step(new Float32Array(2), s.timesteps[0], new Float32Array(2)),
    /TorchGenerator/,
    "rng",
  );
});
