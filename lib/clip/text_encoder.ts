// A CLIP text encoder ONNX (diffusers' <model>/text_encoder/model.onnx or transformers.js'
// <clip>/onnx/text_model.onnx) behind one call: ids in, hidden states out.
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { openSession, type Session, type SessionOptions, Tensor } from "../onnx/session.ts";
import type { EncodeChunk } from "./chunks.ts";
import { PENULTIMATE, withPenultimateOutput } from "./clip_skip.ts";
import { decodeModel, encodeModel } from "../onnx/proto.ts";

export interface TextEncoding {
  /** seq × hidden, row-major: the final layer (after CLIP's final layer norm). */
  lastHiddenState: Float32Array;
  /** seq × hidden: the second-to-last layer's output, when the export has hidden_states.N outputs (SDXL). */
  penultimate?: Float32Array;
  /** The pooled vector: text_embeds (projected) or pooler_output, whichever the export has. */
  pooled?: Float32Array;
  /** Every output of the model by name. */
  outputs: Record<string, Float32Array>;
}

/**
 * Which layer conditions the UNet: the last one (SD 1.x/2.x), the penultimate as is (SDXL), or the penultimate
 * through the final layer norm (A1111's CLIP skip 2; needs `open(…, { clipSkip: true })`).
 */
export type TextLayer = "last" | "penultimate" | "clip_skip";

const CANDIDATES = [["text_encoder", "model.onnx"], ["onnx", "text_model.onnx"], ["model.onnx"]];

export class ClipTextEncoder {
  private constructor(
    private readonly session: Session,
    private readonly idsType: "int32" | "int64",
    /** Width of each token's hidden state. */
    readonly hiddenSize: number,
    /** Number of transformer layers, known when the export lists hidden_states.0..N. */
    readonly layers: number | undefined,
    readonly path: string,
  ) {}

  /** Opens an .onnx file, or finds text_encoder/model.onnx or onnx/text_model.onnx under a model folder. */
  static async open(
    path: string,
    opts: SessionOptions = {},
    extra: { clipSkip?: boolean } = {},
  ): Promise<ClipTextEncoder> {
    const file = resolveModel(path);
    const session = extra.clipSkip
      ? await openSession(encodeModel(withPenultimateOutput(decodeModel(Deno.readFileSync(file)))), opts)
      : await openSession(file, opts);
    if (!session.inputNames.includes("input_ids")) {
      throw new Error(`${file}: not a text encoder (inputs ${session.inputNames.join(", ")}, no input_ids)`);
    }
    if (!session.outputNames.includes("last_hidden_state")) {
      throw new Error(`${file}: not a text encoder (outputs ${session.outputNames.join(", ")})`);
    }
    const input = session.inputMetadata.find((m) => m.name === "input_ids");
    const idsType = input?.isTensor && input.type === "int32" ? "int32" : "int64";
    const hiddenIdx = session.outputNames.map((n) => /^hidden_states\.(\d+)$/.exec(n)?.[1]).filter((n) => n);
    const layers = hiddenIdx.length ? Math.max(...hiddenIdx.map(Number)) : undefined;
    const out = session.outputMetadata.find((m) => m.name === "last_hidden_state");
    const declared = out?.isTensor ? out.shape.at(-1) : undefined;
    const encoder = new ClipTextEncoder(
      session,
      idsType,
      typeof declared === "number" ? declared : 0,
      layers,
      file,
    );
    if (typeof declared === "number") return encoder;
    // The export leaves the width symbolic: one run on BOS/EOS tells it.
    const probe = await encoder.run(new Int32Array([0, 0]));
    const hidden = probe.last_hidden_state.length / 2;
    return new ClipTextEncoder(session, idsType, hidden, layers, file);
  }

  /** Encodes one sequence of ids (usually 77). */
  async encode(ids: Int32Array): Promise<TextEncoding> {
    if (ids.length === 0) throw new Error("text encoder: no input ids");
    const outputs = await this.run(ids);
    const last = outputs.last_hidden_state;
    if (last.length !== ids.length * this.hiddenSize) {
      throw new Error(`${this.path}: last_hidden_state has ${last.length} values for ${ids.length} ids`);
    }
    return {
      lastHiddenState: last,
      penultimate: this.layers !== undefined && this.layers >= 1
        ? outputs[`hidden_states.${this.layers - 1}`]
        : undefined,
      pooled: outputs.text_embeds ?? outputs.pooler_output,
      outputs,
    };
  }

  /** The callback encodeChunks wants, giving the chosen layer. */
  chunkEncoder(layer: TextLayer = "last"): EncodeChunk {
    if (layer === "clip_skip") {
      if (!this.session.outputNames.includes(PENULTIMATE)) {
        throw new Error(`${this.path}: open it with { clipSkip: true } to read CLIP skip 2`);
      }
      return async (ids) => (await this.run(ids))[PENULTIMATE];
    }
    if (layer === "penultimate" && this.layers === undefined) {
      throw new Error(`${this.path}: this export has no hidden_states.N outputs, so no penultimate layer`);
    }
    return async (ids) => {
      const e = await this.encode(ids);
      return layer === "last" ? e.lastHiddenState : e.penultimate!;
    };
  }

  async release(): Promise<void> {
    await this.session.release();
  }

  private async run(ids: Int32Array): Promise<Record<string, Float32Array>> {
    const data = this.idsType === "int32" ? ids : BigInt64Array.from(ids, (v) => BigInt(v));
    const result = await this.session.run({ input_ids: new Tensor(this.idsType, data, [1, ids.length]) });
    const outputs: Record<string, Float32Array> = {};
    for (const [name, tensor] of Object.entries(result)) {
      if (tensor.type !== "float32") {
        throw new Error(`${this.path}: output ${name} is ${tensor.type}, not float32`);
      }
      outputs[name] = tensor.data as Float32Array;
    }
    return outputs;
  }
}

function resolveModel(path: string): string {
  if (!existsSync(path)) throw new Error(`text encoder: ${path} does not exist`);
  if (!statSync(path).isDirectory()) return path;
  for (const parts of CANDIDATES) {
    const file = join(path, ...parts);
    if (existsSync(file)) return file;
  }
  throw new Error(`text encoder: no text_encoder/model.onnx, onnx/text_model.onnx or model.onnx in ${path}`);
}
