// The layers Stable Diffusion's networks are made of, as ONNX nodes in the order torch's exporter emits them
// (a Linear is MatMul by the transposed weight then Add; GroupNorm is InstanceNormalization over [N, G, -1]
// then the affine; GELU is erf-based), so imported graphs compute what exported ones do.
import { GraphBuilder } from "../builder.ts";
import { DataType } from "../proto.ts";
import { Weights, type WeightSource } from "./weights.ts";

export class Net {
  readonly b: GraphBuilder;
  readonly w: Weights;

  constructor(prefix: string, source: WeightSource, keepHalf: boolean) {
    this.b = new GraphBuilder(prefix);
    this.w = new Weights(this.b, source, keepHalf);
  }

  op(type: string, inputs: string[], attrs: Record<string, number | number[] | string> = {}): string {
    return this.b.op(type, inputs, attrs);
  }

  f(value: number): string {
    return this.b.scalar(DataType.FLOAT, value);
  }

  ints(values: number[]): string {
    return this.b.ints(values);
  }

  /** x · Wᵀ + b for a torch Linear (or a 1×1 convolution used as one) stored under `key`. */
  linear(x: string, key: string, name = key): string {
    const shape = this.w.shape(`${key}.weight`);
    const w = this.w.take(`${key}.weight`, {
      transpose: true,
      name: `${name}.weight`,
      dims: [shape.slice(1).reduce((a, b) => a * b, 1), shape[0]],
    });
    const y = this.op("MatMul", [x, w]);
    return this.w.has(`${key}.bias`)
      ? this.op("Add", [this.w.take(`${key}.bias`, { name: `${name}.bias` }), y])
      : y;
  }

  conv(x: string, key: string, stride = 1, pad?: number): string {
    const shape = this.w.shape(`${key}.weight`);
    const p = pad ?? Math.floor(shape[2] / 2);
    const inputs = [x, this.w.take(`${key}.weight`)];
    if (this.w.has(`${key}.bias`)) inputs.push(this.w.take(`${key}.bias`));
    return this.op("Conv", inputs, {
      kernel_shape: shape.slice(2),
      strides: [stride, stride],
      pads: [p, p, p, p],
      dilations: [1, 1],
      group: 1,
    });
  }

  groupNorm(x: string, key: string, groups: number, eps: number): string {
    const c = this.w.shape(`${key}.weight`)[0];
    const grouped = this.op("Reshape", [x, this.ints([0, groups, -1])]);
    const ones = this.b.const(DataType.FLOAT, [groups], new Array(groups).fill(1));
    const zeros = this.b.const(DataType.FLOAT, [groups], new Array(groups).fill(0));
    const normed = this.b.op("InstanceNormalization", [grouped, ones, zeros], { epsilon: eps }, ["epsilon"]);
    const back = this.op("Reshape", [normed, this.op("Shape", [x])]);
    const scaled = this.op("Mul", [back, this.w.take(`${key}.weight`, { dims: [c, 1, 1] })]);
    return this.op("Add", [scaled, this.w.take(`${key}.bias`, { dims: [c, 1, 1] })]);
  }

  layerNorm(x: string, key: string, eps: number, name = key): string {
    return this.b.op(
      "LayerNormalization",
      [
        x,
        this.w.take(`${key}.weight`, { name: `${name}.weight` }),
        this.w.take(`${key}.bias`, { name: `${name}.bias` }),
      ],
      { axis: -1, epsilon: eps },
      ["epsilon"],
    );
  }

  silu(x: string): string {
    return this.op("Mul", [x, this.op("Sigmoid", [x])]);
  }

  gelu(x: string): string {
    const erf = this.op("Erf", [this.op("Div", [x, this.f(Math.SQRT2)])]);
    return this.op("Mul", [this.op("Mul", [x, this.op("Add", [erf, this.f(1)])]), this.f(0.5)]);
  }

  quickGelu(x: string): string {
    return this.op("Mul", [x, this.op("Sigmoid", [this.op("Mul", [x, this.f(1.702)])])]);
  }

  /** Multi-head attention on [B, L, C] values; `mask` is added to the scores ([L, L]). */
  attention(q: string, k: string, v: string, heads: number, channels: number, mask?: string): string {
    const d = channels / heads;
    const split = (x: string, perm: number[]) =>
      this.op("Transpose", [this.op("Reshape", [x, this.ints([0, -1, heads, d])])], { perm });
    const qh = split(this.op("Mul", [q, this.f(1 / Math.sqrt(d))]), [0, 2, 1, 3]);
    const kt = split(k, [0, 2, 3, 1]);
    let scores = this.op("MatMul", [qh, kt]);
    if (mask) scores = this.op("Add", [scores, mask]);
    const out = this.op("MatMul", [this.op("Softmax", [scores], { axis: -1 }), split(v, [0, 2, 1, 3])]);
    return this.op("Reshape", [
      this.op("Transpose", [out], { perm: [0, 2, 1, 3] }),
      this.ints([0, -1, channels]),
    ]);
  }

  /** NCHW → [N, H·W, C] and back (the back shape taken from the NCHW value `like`). */
  toTokens(x: string, channels: number): string {
    return this.op("Reshape", [
      this.op("Transpose", [x], { perm: [0, 2, 3, 1] }),
      this.ints([0, -1, channels]),
    ]);
  }

  fromTokens(x: string, like: string): string {
    const nhwc = this.op("Gather", [this.op("Shape", [like]), this.ints([0, 2, 3, 1])], { axis: 0 });
    return this.op("Transpose", [this.op("Reshape", [x, nhwc])], { perm: [0, 3, 1, 2] });
  }

  /** Nearest-neighbour ×2, as torch's F.interpolate(scale_factor=2) exports. */
  upsample2x(x: string): string {
    const scales = this.b.const(DataType.FLOAT, [4], [1, 1, 2, 2]);
    return this.b.op("Resize", [x, "", scales], {
      mode: "nearest",
      coordinate_transformation_mode: "asymmetric",
      nearest_mode: "floor",
    });
  }
}
