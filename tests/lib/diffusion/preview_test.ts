// The cheap latent → RGB preview.
import { deepStrictEqual as assertEquals, throws } from "node:assert";
import { latentPreview } from "../../../lib/diffusion/preview.ts";

Deno.test("zero latents are mid grey; one pixel per latent cell", () => {
  const p = latentPreview(new Float32Array(4 * 2 * 3), 4, 2, 3);
  assertEquals([p.width, p.height], [3, 2]);
  assertEquals(Array.from(p.data), new Array(18).fill(128));
});

Deno.test("channel 0 maps to warm colours, channel 3 cools; loud latents are normalized", () => {
  const x = new Float32Array(4);
  x[0] = 1;
  assertEquals(Array.from(latentPreview(x, 4, 1, 1).data), [165, 154, 154]);
  x[0] = 0;
  x[3] = 1;
  assertEquals(Array.from(latentPreview(x, 4, 1, 1).data), [104, 93, 67]);
  const loud = latentPreview(Float32Array.of(10, 0, 0, 0), 4, 1, 1);
  const quiet = latentPreview(Float32Array.of(2, 0, 0, 0), 4, 1, 1);
  assertEquals(loud.data, quiet.data);
  throws(() => latentPreview(new Float32Array(3), 4, 1, 1), /3 values for 4×1×1/);
});
