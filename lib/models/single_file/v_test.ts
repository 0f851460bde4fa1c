// A1111's test for whether an SD 2.x checkpoint predicts v (modules/sd_models_config.py,
// is_using_v_parameterization_for_sd2), run on the imported UNet graph when neither a sidecar .yaml nor
// --prediction says: a v-prediction UNet, given latents and conditioning filled with 0.5 at t = 999, returns
// values well below its input (the mean of output − input under −1); an eps UNet does not.
import { openSession, type SessionOptions, Tensor } from "../../onnx/session.ts";

export interface VTest {
  /** mean(UNet(x, 999, context) − x). */
  score: number;
  v: boolean;
}

export async function vPredictionTest(
  unetPath: string,
  contextWidth: number,
  opts: SessionOptions = {},
): Promise<VTest> {
  const session = await openSession(unetPath, opts);
  try {
    const x = new Float32Array(4 * 8 * 8).fill(0.5);
    const out = await session.run({
      sample: new Tensor("float32", x, [1, 4, 8, 8]),
      timestep: new Tensor("float32", Float32Array.of(999), []),
      encoder_hidden_states: new Tensor("float32", new Float32Array(2 * contextWidth).fill(0.5), [
        1,
        2,
        contextWidth,
      ]),
    });
    const y = out.out_sample.data as Float32Array;
    let sum = 0;
    for (let i = 0; i < y.length; i++) sum += y[i] - x[i];
    const score = sum / y.length;
    return { score, v: score < -1 };
  } finally {
    await session.release();
  }
}
