// LAION-style predictors from safetensors state dicts: a linear head and an MLP give the scores worked out by
// hand on the normalized embedding; inconsistent files are refused by name.
import { ok as assert, throws } from "node:assert";
import { writeSafetensors } from "../../../lib/io/safetensors.ts";
import { AestheticPredictor } from "../../../lib/eval/predictor.ts";

const f32 = (...v: number[]) => Float32Array.from(v);
const tensor = (name: string, data: Float32Array, shape: number[]) => ({
  name,
  data,
  shape,
  dtype: "float32" as const,
});

Deno.test("a linear head scores the normalized CLIP embedding", () => {
  const p = AestheticPredictor.fromSafetensors(
    writeSafetensors([tensor("weight", f32(1, 2), [1, 2]), tensor("bias", f32(0.5), [1])]),
    "linear",
  );
  assert(p.inputDim === 2);
  // (3, 4) normalizes to (0.6, 0.8): 0.6 + 1.6 + 0.5.
  assert(Math.abs(p.score(f32(3, 4)) - 2.7) < 1e-6);
});

Deno.test("an MLP's layers apply in the order of their names (layers.2 after layers.0, layers.10 last)", () => {
  const bytes = writeSafetensors([
    tensor("layers.10.weight", f32(2), [1, 1]),
    tensor("layers.0.weight", f32(1, 0, 0, 1, 1, 1), [3, 2]),
    tensor("layers.0.bias", f32(0, 0, 1), [3]),
    tensor("layers.2.weight", f32(1, 1, 1), [1, 3]),
  ]);
  const p = AestheticPredictor.fromSafetensors(bytes, "mlp");
  // x = (1, 0): layer 0 → (1, 0, 2); layer 2 → 3; layer 10 → 6.
  assert(Math.abs(p.score(f32(5, 0)) - 6) < 1e-6);
});

Deno.test("predictors whose layers do not chain, or that give several outputs, are refused", () => {
  const bad = writeSafetensors([
    tensor("a.weight", f32(1, 2, 3, 4), [2, 2]),
    tensor("b.weight", f32(1, 2, 3), [1, 3]),
  ]);
  throws(() => AestheticPredictor.fromSafetensors(bad, "bad"), /takes 3 inputs but the previous gives 2/);
  const wide = writeSafetensors([tensor("weight", f32(1, 2, 3, 4), [2, 2])]);
  throws(() => AestheticPredictor.fromSafetensors(wide, "wide"), /gives 2 outputs, not 1/);
  const odd = writeSafetensors([tensor("running_mean", f32(1), [1])]);
  throws(() => AestheticPredictor.fromSafetensors(odd, "odd"), /unexpected tensor running_mean/);
});
