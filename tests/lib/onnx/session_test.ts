// Every fixture ONNX file loads in onnxruntime-node and reproduces the PyTorch reference outputs.
import { ok } from "node:assert";
import { join } from "node:path";
import { openSession, Tensor } from "../../../lib/onnx/session.ts";
import { assertClose, MODELS, readRef, refs, type TensorRef } from "../../fixtures.ts";

function ids(list: number[]): Tensor {
  return new Tensor("int64", BigInt64Array.from(list.map(BigInt)), [1, list.length]);
}

for (const entry of refs().text_encoders) {
  Deno.test(`text encoder ${entry.model} (${entry.prompt}) matches PyTorch within 1e-5`, async () => {
    const session = await openSession(join(MODELS, entry.model));
    const out = await session.run({ [session.inputNames[0]]: ids(entry.input_ids) });
    for (const [name, ref] of Object.entries(entry.outputs as Record<string, TensorRef>)) {
      const got = out[name];
      ok(got, `${entry.model} has no output ${name}`);
      assertClose(got.data as Float32Array, readRef(ref), 1e-5, `${entry.model} ${name}`);
    }
  });
}

function f32(ref: TensorRef): Tensor {
  return new Tensor("float32", readRef(ref), ref.shape);
}

for (const entry of refs().onnx_models) {
  Deno.test(`${entry.model} unet and vae match PyTorch`, async () => {
    const unet = await openSession(join(MODELS, entry.model, "unet", "model.onnx"));
    // optimum exports the timestep as a float32 scalar shared by the batch.
    const feeds: Record<string, Tensor> = {
      sample: f32(entry.unet.sample),
      timestep: new Tensor("float32", Float32Array.of(entry.unet.timestep[0]), []),
      encoder_hidden_states: f32(entry.unet.encoder_hidden_states),
    };
    const eps = (await unet.run(feeds)).out_sample;
    assertClose(eps.data as Float32Array, readRef(entry.unet.out_sample), 1e-4, "unet");
    const dec = await openSession(join(MODELS, entry.model, "vae_decoder", "model.onnx"));
    const img = (await dec.run({ latent_sample: f32(entry.vae_decoder.latent_sample) })).sample;
    assertClose(img.data as Float32Array, readRef(entry.vae_decoder.sample), 1e-4, "vae_decoder");
    const enc = await openSession(join(MODELS, entry.model, "vae_encoder", "model.onnx"));
    const moments = (await enc.run({ sample: f32(entry.vae_encoder.sample) })).latent_parameters;
    assertClose(moments.data as Float32Array, readRef(entry.vae_encoder.moments), 1e-4, "vae_encoder");
  });
}
