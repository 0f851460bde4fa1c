// The embedding set's quality report: cosines to the mean, outliers flagged.
import { deepStrictEqual as assertEquals, ok } from "node:assert";
import { QualityCollector } from "../../../lib/embed/quality.ts";

Deno.test("each image's cosine to the mean, least typical first; the odd one out is flagged", () => {
  const q = new QualityCollector();
  // Five images near (1, 0, 0) and one pointing elsewhere, in two batches.
  q.add(["a", "b", "c"], new Float32Array([1, 0.1, 0, 1, -0.1, 0, 1, 0, 0.1]));
  q.add(["d", "e", "f"], new Float32Array([1, 0, -0.1, 1, 0.05, 0.05, 0, 0, 1]));
  const mean = new Float32Array([5 / 6, 0.05 / 6, 1.05 / 6]);
  const r = q.report(mean, (f) => `${f}.png`);
  assertEquals(r.images.map((i) => i.file)[0], "f.png");
  assertEquals(r.images.filter((i) => i.outlier).map((i) => i.file), ["f.png"]);
  assertEquals(r.outliers, 1);
  ok(r.images.every((i, k) => k === 0 || i.cosine >= r.images[k - 1].cosine));
  ok(Math.abs(r.images[0].cosine - (1.05 / 6) / Math.hypot(5 / 6, 0.05 / 6, 1.05 / 6)) < 1e-6);
});

Deno.test("three images or fewer: cosines reported, nothing flagged", () => {
  const q = new QualityCollector();
  q.add(["a", "b"], new Float32Array([1, 0, 0, 1]));
  const r = q.report(new Float32Array([0.5, 0.5]));
  assertEquals(r.images.map((i) => i.outlier), [false, false]);
  ok(Math.abs(r.meanCosine - Math.SQRT1_2) < 1e-6);
});
