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

// torch.save(m.state_dict()) of LAION's layout, nn.Sequential(Linear(4, 3), Dropout, Linear(3, 1)) under `layers`,
// weights rounded to eighths; torch scores the normalized (1, 2, 2, 4) at -0.525.
const TORCH_MLP = Uint8Array.from(
  atob(
    "UEsDBAAACAgAAAAAAAAAAAAAAAAAAAAAAAAQABIAYXJjaGl2ZS9kYXRhLnBrbEZCDgBaWlpaWlpaWlpaWlpaWoACY2NvbGxlY3Rpb25z" +
      "Ck9yZGVyZWREaWN0CnEAKVJxAShYDwAAAGxheWVycy4wLndlaWdodHECY3RvcmNoLl91dGlscwpfcmVidWlsZF90ZW5zb3JfdjIKcQMo" +
      "KFgHAAAAc3RvcmFnZXEEY3RvcmNoCkZsb2F0U3RvcmFnZQpxBVgBAAAAMHEGWAMAAABjcHVxB0sMdHEIUUsASwNLBIZxCUsESwGGcQqJ" +
      "aAApUnELdHEMUnENWA0AAABsYXllcnMuMC5iaWFzcQ5oAygoaARoBVgBAAAAMXEPaAdLA3RxEFFLAEsDhXERSwGFcRKJaAApUnETdHEU" +
      "UnEVWA8AAABsYXllcnMuMi53ZWlnaHRxFmgDKChoBGgFWAEAAAAycRdoB0sDdHEYUUsASwFLA4ZxGUsDSwGGcRqJaAApUnEbdHEcUnEd" +
      "WA0AAABsYXllcnMuMi5iaWFzcR5oAygoaARoBVgBAAAAM3EfaAdLAXRxIFFLAEsBhXEhSwGFcSKJaAApUnEjdHEkUnEldX1xJlgJAAAA" +
      "X21ldGFkYXRhcSdoAClScSgoWAAAAABxKX1xKlgHAAAAdmVyc2lvbnErSwFzWAYAAABsYXllcnNxLH1xLWgrSwFzWAgAAABsYXllcnMu" +
      "MHEufXEvaCtLAXNYCAAAAGxheWVycy4xcTB9cTFoK0sBc1gIAAAAbGF5ZXJzLjJxMn1xM2grSwFzdXNiLlBLBwgfrKIjHwIAAB8CAABQ" +
      "SwMEAAAICAAAAAAAAAAAAAAAAAAAAAAAABcAHABhcmNoaXZlLy5mb3JtYXRfdmVyc2lvbkZCGABaWlpaWlpaWlpaWlpaWlpaWlpaWlpa" +
      "WloxUEsHCLfv3IMBAAAAAQAAAFBLAwQAAAgIAAAAAAAAAAAAAAAAAAAAAAAAGgA3AGFyY2hpdmUvLnN0b3JhZ2VfYWxpZ25tZW50RkIz" +
      "AFpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWjY0UEsHCD93cekCAAAAAgAAAFBLAwQAAAgI" +
      "AAAAAAAAAAAAAAAAAAAAAAAAEQA/AGFyY2hpdmUvYnl0ZW9yZGVyRkI7AFpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpa" +
      "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpabGl0dGxlUEsHCIU94xkGAAAABgAAAFBLAwQAAAgIAAAAAAAAAAAAAAAAAAAAAAAADgA+AGFy" +
      "Y2hpdmUvZGF0YS8wRkI6AFpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWloAAACA" +
      "AACAPgAAwL4AAMC+AACAvgAAAD4AAACAAADAPgAAAIAAAAA+AAAAvgAAAL5QSwcISkqlKjAAAAAwAAAAUEsDBAAACAgAAAAAAAAAAAAA" +
      "AAAAAAAAAAAOABQAYXJjaGl2ZS9kYXRhLzFGQhAAWlpaWlpaWlpaWlpaWlpaWgAAAL8AAMC+AACAvlBLBwgiZ01FDAAAAAwAAABQSwME" +
      "AAAICAAAAAAAAAAAAAAAAAAAAAAAAA4AOABhcmNoaXZlL2RhdGEvMkZCNABaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpa" +
      "WlpaWlpaWlpaWlpaWlpaWlpaAAAAAAAAgD4AAMA+UEsHCLUe73EMAAAADAAAAFBLAwQAAAgIAAAAAAAAAAAAAAAAAAAAAAAADgA4AGFy" +
      "Y2hpdmUvZGF0YS8zRkI0AFpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWloAAMC+UEsHCNmW" +
      "Z8YEAAAABAAAAFBLAwQAAAgIAAAAAAAAAAAAAAAAAAAAAAAADwA/AGFyY2hpdmUvdmVyc2lvbkZCOwBaWlpaWlpaWlpaWlpaWlpaWlpa" +
      "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWjMKUEsHCNGeZ1UCAAAAAgAAAFBLAwQAAAgIAAAAAAAAAAAAAAAA" +
      "AAAAAAAAHgAyAGFyY2hpdmUvLmRhdGEvc2VyaWFsaXphdGlvbl9pZEZCLgBaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpa" +
      "WlpaWlpaWlpaWlpaMTA3Nzg2MjcyOTc5OTg1NDE2MjUxNTkxMDUwMzYyMDE4MzczMjIzNVBLBwiJnyYgKAAAACgAAABQSwECAAAAAAgI" +
      "AAAAAAAAH6yiIx8CAAAfAgAAEAAAAAAAAAAAAAAAAAAAAAAAYXJjaGl2ZS9kYXRhLnBrbFBLAQIAAAAACAgAAAAAAAC379yDAQAAAAEA" +
      "AAAXAAAAAAAAAAAAAAAAAG8CAABhcmNoaXZlLy5mb3JtYXRfdmVyc2lvblBLAQIAAAAACAgAAAAAAAA/d3HpAgAAAAIAAAAaAAAAAAAA" +
      "AAAAAAAAANECAABhcmNoaXZlLy5zdG9yYWdlX2FsaWdubWVudFBLAQIAAAAACAgAAAAAAACFPeMZBgAAAAYAAAARAAAAAAAAAAAAAAAA" +
      "AFIDAABhcmNoaXZlL2J5dGVvcmRlclBLAQIAAAAACAgAAAAAAABKSqUqMAAAADAAAAAOAAAAAAAAAAAAAAAAANYDAABhcmNoaXZlL2Rh" +
      "dGEvMFBLAQIAAAAACAgAAAAAAAAiZ01FDAAAAAwAAAAOAAAAAAAAAAAAAAAAAIAEAABhcmNoaXZlL2RhdGEvMVBLAQIAAAAACAgAAAAA" +
      "AAC1Hu9xDAAAAAwAAAAOAAAAAAAAAAAAAAAAANwEAABhcmNoaXZlL2RhdGEvMlBLAQIAAAAACAgAAAAAAADZlmfGBAAAAAQAAAAOAAAA" +
      "AAAAAAAAAAAAAFwFAABhcmNoaXZlL2RhdGEvM1BLAQIAAAAACAgAAAAAAADRnmdVAgAAAAIAAAAPAAAAAAAAAAAAAAAAANQFAABhcmNo" +
      "aXZlL3ZlcnNpb25QSwECAAAAAAgIAAAAAAAAiZ8mICgAAAAoAAAAHgAAAAAAAAAAAAAAAABSBgAAYXJjaGl2ZS8uZGF0YS9zZXJpYWxp" +
      "emF0aW9uX2lkUEsGBiwAAAAAAAAAHgMtAAAAAAAAAAAACgAAAAAAAAAKAAAAAAAAAIMCAAAAAAAA+AYAAAAAAABQSwYHAAAAAHsJAAAA" +
      "AAAAAQAAAFBLBQYAAAAACgAKAIMCAAD4BgAAAAA=",
  ),
  (c) => c.charCodeAt(0),
);

Deno.test("a torch .pth state dict (LAION's MLP layout) gives torch's score", () => {
  const p = AestheticPredictor.fromTorch(TORCH_MLP, "mlp.pth");
  assert(p.inputDim === 4);
  assert(Math.abs(p.score(f32(1, 2, 2, 4)) - -0.525) < 1e-6);
});
