import { lagrangeIntegral, LMSDiscreteScheduler } from "../../../../lib/diffusion/schedulers/lms.ts";
import { assertNear, referenceCases, testAgainstDiffusers } from "./reference.ts";

testAgainstDiffusers("lms", "LMSDiscreteScheduler");

Deno.test("LMS coefficients integrate the Lagrange basis exactly", () => {
  // Basis of nodes {1, 2}: at node 1 it is (tau - 2) / (1 - 2); over [1, 0] its integral is -1.5.
  assertNear(lagrangeIntegral([1, 2], 0, 1, 0), -1.5, 1e-15, "linear");
  // Cubic basis: the coefficients of a step reproduce ∫ 1 dτ = b - a and ∫ τ³ dτ (sum of basis × node value).
  const nodes = [3, 2, 1.5, 1];
  const [a, b] = [3, 0.5];
  let sum1 = 0;
  let sum3 = 0;
  nodes.forEach((n, j) => {
    const c = lagrangeIntegral(nodes, j, a, b);
    sum1 += c;
    sum3 += c * n ** 3;
  });
  assertNear(sum1, b - a, 1e-12, "constant");
  assertNear(sum3, (b ** 4 - a ** 4) / 4, 1e-12, "cubic");
});

Deno.test("LMS restarts its history on setTimesteps", () => {
  const s = new LMSDiscreteScheduler(referenceCases("lms")[0].config);
  const run = () => {
    s.setTimesteps(5);
    let x: Float32Array = new Float32Array(8).fill(2);
    for (const t of s.timesteps) x = s.step(s.scaleModelInput(x, t).map((v) => 0.4 * v), t, x);
    return x;
  };
  const a = run();
  const b = run();
  if (!a.every((v, i) => v === b[i])) throw new Error("history leaked into the second run");
});
