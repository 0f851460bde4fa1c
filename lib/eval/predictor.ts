// A LAION-style aesthetic predictor: a linear head or an MLP of Linear layers on the L2-normalized CLIP image
// embedding (LAION's improved-aesthetic-predictor has no activations between its layers; dropout is a no-op at
// inference). Loaded from a `.pth` or `.safetensors` state dict through the project's safe loaders (no pickle
// code runs).
import { readSafetensors } from "../io/safetensors.ts";
import { readTorchStateDict } from "../io/torch_pt.ts";

interface NamedTensor {
  name: string;
  data: Float32Array;
  shape: number[];
}

interface Linear {
  weight: Float32Array; // out × in, row-major (torch's layout)
  bias?: Float32Array;
  inDim: number;
  outDim: number;
}

export class AestheticPredictor {
  private constructor(private readonly layers: Linear[]) {}

  get inputDim(): number {
    return this.layers[0].inDim;
  }

  static fromSafetensors(bytes: Uint8Array, what: string): AestheticPredictor {
    return AestheticPredictor.fromTensors(readSafetensors(bytes, what).tensors, what);
  }

  static fromTorch(bytes: Uint8Array, what: string): AestheticPredictor {
    const dict = readTorchStateDict(bytes, what);
    return AestheticPredictor.fromTensors([...dict].map(([name, t]) => ({ name, ...t })), what);
  }

  /** Reads `weight`/`bias` pairs (e.g. `layers.0.weight`, or a bare `weight`), in the order of their names. */
  static fromTensors(tensors: NamedTensor[], what: string): AestheticPredictor {
    const byPrefix = new Map<string, { weight?: Float32Array; shape?: number[]; bias?: Float32Array }>();
    for (const t of tensors) {
      const m = /^(.*?)(weight|bias)$/.exec(t.name);
      if (!m) {
        throw new Error(`${what}: unexpected tensor ${t.name} (a predictor has only weights and biases)`);
      }
      const entry = byPrefix.get(m[1]) ?? {};
      if (m[2] === "weight") [entry.weight, entry.shape] = [t.data, t.shape];
      else entry.bias = t.data;
      byPrefix.set(m[1], entry);
    }
    const order = [...byPrefix.keys()].sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
    const layers: Linear[] = order.map((name) => {
      const e = byPrefix.get(name)!;
      if (!e.weight || !e.shape || e.shape.length !== 2) {
        throw new Error(`${what}: ${name}weight is not a matrix`);
      }
      const [outDim, inDim] = e.shape;
      if (e.bias && e.bias.length !== outDim) {
        throw new Error(`${what}: ${name}bias has ${e.bias.length} values`);
      }
      return { weight: e.weight, bias: e.bias, inDim, outDim };
    });
    if (layers.length === 0) throw new Error(`${what}: no layers`);
    layers.forEach((l, i) => {
      if (i > 0 && l.inDim !== layers[i - 1].outDim) {
        throw new Error(
          `${what}: layer ${order[i]} takes ${l.inDim} inputs but the previous gives ${layers[i - 1].outDim}`,
        );
      }
    });
    if (layers.at(-1)!.outDim !== 1) {
      throw new Error(`${what}: the last layer gives ${layers.at(-1)!.outDim} outputs, not 1`);
    }
    return new AestheticPredictor(layers);
  }

  static async load(path: string): Promise<AestheticPredictor> {
    const bytes = await Deno.readFile(path);
    if (path.endsWith(".safetensors")) return AestheticPredictor.fromSafetensors(bytes, path);
    if (path.endsWith(".pth") || path.endsWith(".pt")) return AestheticPredictor.fromTorch(bytes, path);
    throw new Error(`${path}: a predictor is a .pth, .pt or .safetensors state dict`);
  }

  /** The score of one image embedding (normalized here, as LAION's predictor expects). */
  score(imageEmbeds: Float32Array): number {
    const norm = Math.hypot(...imageEmbeds);
    let x = Float64Array.from(imageEmbeds, (v) => v / norm);
    for (const l of this.layers) {
      const y = new Float64Array(l.outDim);
      for (let o = 0; o < l.outDim; o++) {
        let acc = l.bias ? l.bias[o] : 0;
        for (let i = 0; i < l.inDim; i++) acc += l.weight[o * l.inDim + i] * x[i];
        y[o] = acc;
      }
      x = y;
    }
    return x[0];
  }
}
