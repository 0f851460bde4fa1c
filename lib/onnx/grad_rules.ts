// The gradient of every ONNX op we differentiate: one entry per op, each a few emitted nodes.
// A rule receives the gradients of the node's outputs (undefined: zero) and which inputs need one, and returns
// the gradients of its inputs. Shapes are static (the gradient graph is built for fixed input shapes), so
// broadcasting is undone with known axes.
import type { GraphBuilder } from "./builder.ts";
import { type AttributeProto, DataType, type NodeProto, num } from "./proto.ts";

export interface GradContext {
  b: GraphBuilder;
  /** The opset of the gradient model (at least 16, for ScatterND's reduction; sources are 13 or later). */
  opset: number;
  /** The sizes the probe saw; along axes that vary with the inputs, only those of the first example. */
  shape(name: string): number[];
  /** Whether the given axis (default: any axis) of the tensor varies with the inputs. */
  varies(name: string, axis?: number): boolean;
  /** An int64 tensor holding the tensor's shape: a constant, or read at run time when some axis varies. */
  dims(name: string): string;
  dtype(name: string): number;
  /** Values of a small integer tensor (axes, starts, …) as the forward pass computed them. */
  ints(name: string): number[];
  /** Sums g (whose shape is `from`) over the axes that broadcasting expanded, giving target's shape. */
  unbroadcast(g: string, target: string, from: number[]): string;
}

type Grad = string | undefined;
export type GradRule = (node: NodeProto, gy: Grad[], needs: boolean[], ctx: GradContext) => Grad[];

function attr(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}

function intAttr(node: NodeProto, name: string, fallback: number): number {
  const a = attr(node, name);
  return a?.i !== undefined ? num(a.i) : fallback;
}

function floatAttr(node: NodeProto, name: string, fallback: number): number {
  return attr(node, name)?.f ?? fallback;
}

function intsAttr(node: NodeProto, name: string): number[] | undefined {
  return attr(node, name)?.ints?.map(num);
}

const norm = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

/** ReduceMean takes its axes as an attribute before opset 18 and as an input from 18 on. */
function reduceMean(ctx: GradContext, x: string, axes: number[]): string {
  return ctx.opset >= 18
    ? ctx.b.op("ReduceMean", [x, ctx.b.ints(axes)], { keepdims: 1 })
    : ctx.b.op("ReduceMean", [x], { axes, keepdims: 1 });
}

/** Reshapes g to the shape of `like`. */
function reshapeTo(ctx: GradContext, g: string, like: string): string {
  return ctx.b.op("Reshape", [g, ctx.dims(like)]);
}

function scalarLike(ctx: GradContext, like: string, value: number): string {
  return ctx.b.scalar(ctx.dtype(like), value);
}

/** Reduction axes of a Reduce* node: an attribute before opset 13/18, an input after. */
function reduceAxes(node: NodeProto, ctx: GradContext, rank: number): number[] {
  const fromAttr = intsAttr(node, "axes");
  const axes = fromAttr ?? (node.input[1] ? ctx.ints(node.input[1]) : []);
  if (axes.length === 0) {
    if (intAttr(node, "noop_with_empty_axes", 0)) return [];
    return Array.from({ length: rank }, (_, i) => i);
  }
  return axes.map((a) => norm(a, rank));
}

/** Broadcasts g (reduced over axes) back to x's shape. */
function expandReduced(ctx: GradContext, node: NodeProto, g: string, x: string, axes: number[]): string {
  const g2 = intAttr(node, "keepdims", 1) ? g : ctx.b.op("Unsqueeze", [g, ctx.b.ints(axes)]);
  return ctx.b.op("Expand", [g2, ctx.dims(x)]);
}

function transposeLast2(ctx: GradContext, x: string, rank: number): string {
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return ctx.b.op("Transpose", [x], { perm });
}

function matmulGrads(node: NodeProto, g: string, needs: boolean[], ctx: GradContext): Grad[] {
  const [a, b] = node.input;
  const ra = ctx.shape(a).length;
  const rb = ctx.shape(b).length;
  if (ra < 2 || rb < 2) {
    throw new Error(`gradient of MatMul with a 1-D operand (${node.name}) is not supported`);
  }
  const out = ctx.shape(node.output[0]);
  const k = ctx.shape(a).at(-1)!;
  const n = out.at(-1)!;
  const ga = needs[0]
    ? ctx.unbroadcast(ctx.b.op("MatMul", [g, transposeLast2(ctx, b, rb)]), a, [...out.slice(0, -1), k])
    : undefined;
  let gb: Grad;
  if (needs[1]) {
    if (rb === 2) {
      // A weight matrix: fold every leading axis into one GEMM rather than a batch of small ones.
      const a2 = ctx.b.op("Reshape", [a, ctx.b.ints([-1, k])]);
      const g2 = ctx.b.op("Reshape", [g, ctx.b.ints([-1, n])]);
      gb = ctx.b.op("Gemm", [a2, g2], { transA: 1 });
    } else {
      gb = ctx.unbroadcast(ctx.b.op("MatMul", [transposeLast2(ctx, a, ra), g]), b, [
        ...out.slice(0, -2),
        k,
        n,
      ]);
    }
  }
  return [ga, gb];
}

/** Gradient of a rank-2-or-more gather along axis 0: scatter-add the rows back. */
function scatterRows(ctx: GradContext, g: string, data: string, indices: string): string {
  const zeros = ctx.b.op("ConstantOfShape", [ctx.dims(data)], {
    value: {
      name: "",
      dataType: ctx.dtype(data),
      dims: [1],
      rawData: ctx.dtype(data) === DataType.DOUBLE ? new Uint8Array(8) : new Uint8Array(4),
    },
  });
  const idx = ctx.b.op("Unsqueeze", [indices, ctx.b.ints([-1])]);
  const idx64 = ctx.dtype(indices) === DataType.INT64 ? idx : ctx.b.op("Cast", [idx], { to: DataType.INT64 });
  return ctx.b.op("ScatterND", [zeros, idx64, g], { reduction: "add" });
}

export const GRAD_RULES: Record<string, GradRule> = {
  Identity: (_n, [g]) => [g],
  Add: (n, [g], needs, ctx) => [
    needs[0] ? ctx.unbroadcast(g!, n.input[0], ctx.shape(n.output[0])) : undefined,
    needs[1] ? ctx.unbroadcast(g!, n.input[1], ctx.shape(n.output[0])) : undefined,
  ],
  Sub: (n, [g], needs, ctx) => [
    needs[0] ? ctx.unbroadcast(g!, n.input[0], ctx.shape(n.output[0])) : undefined,
    needs[1] ? ctx.unbroadcast(ctx.b.op("Neg", [g!]), n.input[1], ctx.shape(n.output[0])) : undefined,
  ],
  Mul: (n, [g], needs, ctx) => [
    needs[0]
      ? ctx.unbroadcast(ctx.b.op("Mul", [g!, n.input[1]]), n.input[0], ctx.shape(n.output[0]))
      : undefined,
    needs[1]
      ? ctx.unbroadcast(ctx.b.op("Mul", [g!, n.input[0]]), n.input[1], ctx.shape(n.output[0]))
      : undefined,
  ],
  Div: (n, [g], needs, ctx) => {
    const [a, b] = n.input;
    const y = n.output[0];
    return [
      needs[0] ? ctx.unbroadcast(ctx.b.op("Div", [g!, b]), a, ctx.shape(n.output[0])) : undefined,
      needs[1]
        ? ctx.unbroadcast(
          ctx.b.op("Neg", [ctx.b.op("Div", [ctx.b.op("Mul", [g!, y]), b])]),
          b,
          ctx.shape(n.output[0]),
        )
        : undefined,
    ];
  },
  Neg: (_n, [g], _needs, ctx) => [ctx.b.op("Neg", [g!])],
  Pow: (n, [g], needs, ctx) => {
    const [x, p] = n.input;
    let gx: Grad, gp: Grad;
    if (needs[0]) {
      // d/dx x^p = p · x^(p-1)
      const pm1 = ctx.b.op("Sub", [p, scalarLike(ctx, p, 1)]);
      const dx = ctx.b.op("Mul", [
        ctx.b.op("Pow", [x, pm1]),
        ctx.dtype(p) === ctx.dtype(x) ? p : ctx.b.op("Cast", [p], { to: ctx.dtype(x) }),
      ]);
      gx = ctx.unbroadcast(ctx.b.op("Mul", [g!, dx]), x, ctx.shape(n.output[0]));
    }
    if (needs[1]) {
      const dp = ctx.b.op("Mul", [n.output[0], ctx.b.op("Log", [x])]);
      gp = ctx.unbroadcast(ctx.b.op("Mul", [g!, dp]), p, ctx.shape(n.output[0]));
    }
    return [gx, gp];
  },
  Sqrt: (n, [g], _needs, ctx) => [
    ctx.b.op("Div", [g!, ctx.b.op("Mul", [n.output[0], scalarLike(ctx, n.output[0], 2)])]),
  ],
  Exp: (n, [g], _needs, ctx) => [ctx.b.op("Mul", [g!, n.output[0]])],
  Log: (n, [g], _needs, ctx) => [ctx.b.op("Div", [g!, n.input[0]])],
  Tanh: (n, [g], _needs, ctx) => {
    const y = n.output[0];
    const one = scalarLike(ctx, y, 1);
    return [ctx.b.op("Mul", [g!, ctx.b.op("Sub", [one, ctx.b.op("Mul", [y, y])])])];
  },
  Relu: (n, [g], _needs, ctx) => {
    const mask = ctx.b.op("Greater", [n.input[0], scalarLike(ctx, n.input[0], 0)]);
    return [ctx.b.op("Where", [mask, g!, scalarLike(ctx, n.input[0], 0)])];
  },
  Sigmoid: (n, [g], _needs, ctx) => {
    const y = n.output[0];
    const oneMinus = ctx.b.op("Sub", [scalarLike(ctx, y, 1), y]);
    return [ctx.b.op("Mul", [g!, ctx.b.op("Mul", [y, oneMinus])])];
  },
  Erf: (n, [g], _needs, ctx) => {
    // d/dx erf(x) = 2/√π · exp(−x²)
    const x = n.input[0];
    const e = ctx.b.op("Exp", [ctx.b.op("Neg", [ctx.b.op("Mul", [x, x])])]);
    return [ctx.b.op("Mul", [g!, ctx.b.op("Mul", [e, scalarLike(ctx, x, 2 / Math.sqrt(Math.PI))])])];
  },
  ReduceSum: (n, [g], _needs, ctx) => {
    const x = n.input[0];
    return [expandReduced(ctx, n, g!, x, reduceAxes(n, ctx, ctx.shape(x).length))];
  },
  ReduceMean: (n, [g], _needs, ctx) => {
    const x = n.input[0];
    const shape = ctx.shape(x);
    const axes = reduceAxes(n, ctx, shape.length);
    if (axes.some((a) => ctx.varies(x, a))) {
      throw new Error(`gradient of ReduceMean over an axis whose size varies (${n.name})`);
    }
    const count = axes.reduce((p, a) => p * shape[a], 1);
    const ge = expandReduced(ctx, n, g!, x, axes);
    return [ctx.b.op("Mul", [ge, scalarLike(ctx, x, 1 / count)])];
  },
  MatMul: (n, [g], needs, ctx) => matmulGrads(n, g!, needs, ctx),
  Gemm: (n, [g], needs, ctx) => {
    const [a, b, c] = n.input;
    const alpha = floatAttr(n, "alpha", 1);
    const beta = floatAttr(n, "beta", 1);
    const transA = intAttr(n, "transA", 0);
    const transB = intAttr(n, "transB", 0);
    const scaled = alpha === 1 ? g! : ctx.b.op("Mul", [g!, scalarLike(ctx, n.output[0], alpha)]);
    // Y = A'·B' with A' = transA ? Aᵀ : A; dA' = g·B'ᵀ, dB' = A'ᵀ·g; transposing back where needed.
    const ga = needs[0]
      ? transA
        ? ctx.b.op("Gemm", [b, scaled], { transA: transB, transB: 1 })
        : ctx.b.op("Gemm", [scaled, b], { transB: transB ? 0 : 1 })
      : undefined;
    const gb = needs[1]
      ? transB
        ? ctx.b.op("Gemm", [scaled, a], { transA: 1, transB: transA })
        : ctx.b.op("Gemm", [a, scaled], { transA: transA ? 0 : 1 })
      : undefined;
    const gc = c && needs[2]
      ? ctx.unbroadcast(
        beta === 1 ? g! : ctx.b.op("Mul", [g!, scalarLike(ctx, n.output[0], beta)]),
        c,
        ctx.shape(n.output[0]),
      )
      : undefined;
    return [ga, gb, gc];
  },
  Transpose: (n, [g], _needs, ctx) => {
    const rank = ctx.shape(n.input[0]).length;
    const perm = intsAttr(n, "perm") ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return [ctx.b.op("Transpose", [g!], { perm: inverse })];
  },
  Reshape: (n, [g], _needs, ctx) => [reshapeTo(ctx, g!, n.input[0])],
  Flatten: (n, [g], _needs, ctx) => [reshapeTo(ctx, g!, n.input[0])],
  Squeeze: (n, [g], _needs, ctx) => [reshapeTo(ctx, g!, n.input[0])],
  Unsqueeze: (n, [g], _needs, ctx) => [reshapeTo(ctx, g!, n.input[0])],
  Expand: (n, [g], _needs, ctx) => [ctx.unbroadcast(g!, n.input[0], ctx.shape(n.output[0]))],
  Cast: (n, [g], _needs, ctx) => [
    ctx.dtype(n.input[0]) === ctx.dtype(g!) ? g! : ctx.b.op("Cast", [g!], { to: ctx.dtype(n.input[0]) }),
  ],
  Where: (n, [g], needs, ctx) => {
    const [cond, x, y] = n.input;
    const zero = scalarLike(ctx, n.output[0], 0);
    return [
      undefined,
      needs[1] ? ctx.unbroadcast(ctx.b.op("Where", [cond, g!, zero]), x, ctx.shape(n.output[0])) : undefined,
      needs[2] ? ctx.unbroadcast(ctx.b.op("Where", [cond, zero, g!]), y, ctx.shape(n.output[0])) : undefined,
    ];
  },
  Softmax: (n, [g], _needs, ctx) => {
    const y = n.output[0];
    const rank = ctx.shape(y).length;
    const axis = norm(intAttr(n, "axis", -1), rank);
    // dx = y ⊙ (g − Σ(g ⊙ y))
    const gy = ctx.b.op("Mul", [g!, y]);
    const s = ctx.b.op("ReduceSum", [gy, ctx.b.ints([axis])], { keepdims: 1 });
    return [ctx.b.op("Mul", [y, ctx.b.op("Sub", [g!, s])])];
  },
  Gather: (n, [g], needs, ctx) => {
    const [data, indices] = n.input;
    const axis = norm(intAttr(n, "axis", 0), ctx.shape(data).length);
    if (!needs[0]) return [undefined, undefined];
    if (axis !== 0) throw new Error(`gradient of Gather along axis ${axis} (${n.name}) is not supported`);
    if (ctx.shape(indices).length === 0) {
      // A scalar index drops the axis: put it back so the scatter sees one row.
      const g1 = ctx.b.op("Unsqueeze", [g!, ctx.b.ints([0])]);
      const i1 = ctx.b.op("Unsqueeze", [indices, ctx.b.ints([0])]);
      return [scatterRows(ctx, g1, data, i1), undefined];
    }
    return [scatterRows(ctx, g!, data, indices), undefined];
  },
  GatherND: (n, [g], needs, ctx) => {
    const [data, indices] = n.input;
    if (intAttr(n, "batch_dims", 0) !== 0) {
      throw new Error(`gradient of GatherND with batch_dims (${n.name})`);
    }
    if (!needs[0]) return [undefined, undefined];
    const zeros = ctx.b.op("Mul", [data, scalarLike(ctx, data, 0)]);
    return [ctx.b.op("ScatterND", [zeros, indices, g!], { reduction: "add" }), undefined];
  },
  Slice: (n, [g], _needs, ctx) => {
    const x = n.input[0];
    if (ctx.varies(x)) throw new Error(`gradient of Slice of a tensor whose shape varies (${n.name})`);
    const shape = ctx.shape(x);
    const starts = ctx.ints(n.input[1]);
    const ends = ctx.ints(n.input[2]);
    const axes = n.input[3] ? ctx.ints(n.input[3]) : starts.map((_, i) => i);
    const steps = n.input[4] ? ctx.ints(n.input[4]) : starts.map(() => 1);
    const pads = new Array(shape.length * 2).fill(0);
    axes.forEach((a0, i) => {
      if (steps[i] !== 1) {
        throw new Error(`gradient of Slice with step ${steps[i]} (${n.name}) is not supported`);
      }
      const a = norm(a0, shape.length);
      const d = shape[a];
      const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
      const s = clamp(starts[i]);
      const e = Math.max(clamp(ends[i]), s);
      pads[a] = s;
      pads[a + shape.length] = d - e;
    });
    return [ctx.b.op("Pad", [g!, ctx.b.ints(pads)])];
  },
  Concat: (n, [g], needs, ctx) => {
    const rank = ctx.shape(n.output[0]).length;
    const axis = norm(intAttr(n, "axis", 0), rank);
    if (n.input.some((i) => ctx.varies(i))) {
      throw new Error(`gradient of Concat of tensors whose shapes vary (${n.name})`);
    }
    const sizes = n.input.map((i) => ctx.shape(i)[axis]);
    const parts = ctx.b.node("Split", [g!, ctx.b.ints(sizes)], n.input.length, { axis });
    return parts.map((p, i) => (needs[i] ? p : undefined));
  },
  Split: (n, gy, _needs, ctx) => {
    const rank = ctx.shape(n.input[0]).length;
    const axis = norm(intAttr(n, "axis", 0), rank);
    const parts = n.output.map((o, i) => gy[i] ?? ctx.b.op("Mul", [o, scalarLike(ctx, o, 0)]));
    return [ctx.b.op("Concat", parts, { axis })];
  },
  LayerNormalization: (n, gy, needs, ctx) => {
    const [x, scale, bias] = n.input;
    const g = gy[0];
    if (!g) {
      throw new Error(
        `gradient through LayerNormalization's mean/inv_std outputs (${n.name}) is not supported`,
      );
    }
    const rank = ctx.shape(x).length;
    const axis = norm(intAttr(n, "axis", -1), rank);
    const eps = floatAttr(n, "epsilon", 1e-5);
    const axes = Array.from({ length: rank - axis }, (_, i) => axis + i);
    // The statistics the forward node saved, when it outputs them; else computed again.
    let [mean, invStd] = [n.output[1], n.output[2]];
    if (!mean || !invStd || ctx.dtype(mean) !== ctx.dtype(x)) {
      mean = reduceMean(ctx, x, axes);
      const xc = ctx.b.op("Sub", [x, mean]);
      const variance = reduceMean(ctx, ctx.b.op("Mul", [xc, xc]), axes);
      invStd = ctx.b.op("Reciprocal", [
        ctx.b.op("Sqrt", [ctx.b.op("Add", [variance, scalarLike(ctx, x, eps)])]),
      ]);
    }
    const xhat = ctx.b.op("Mul", [ctx.b.op("Sub", [x, mean]), invStd]);
    const gs = needs[1]
      ? ctx.unbroadcast(ctx.b.op("Mul", [g, xhat]), scale, ctx.shape(n.output[0]))
      : undefined;
    const gb = bias && needs[2] ? ctx.unbroadcast(g, bias, ctx.shape(n.output[0])) : undefined;
    let gx: Grad;
    if (needs[0]) {
      // dx = inv_std · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ ⊙ x̂)), dx̂ = g ⊙ scale
      const dxhat = ctx.b.op("Mul", [g, scale]);
      const m1 = reduceMean(ctx, dxhat, axes);
      const m2 = reduceMean(ctx, ctx.b.op("Mul", [dxhat, xhat]), axes);
      const inner = ctx.b.op("Sub", [ctx.b.op("Sub", [dxhat, m1]), ctx.b.op("Mul", [xhat, m2])]);
      gx = ctx.b.op("Mul", [inner, invStd]);
    }
    return [gx, gs, gb];
  },
};
