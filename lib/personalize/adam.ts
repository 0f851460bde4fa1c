// torch.optim.Adam's update (no weight decay, no amsgrad) as an ONNX graph over flat parameter buffers, so the
// update runs in onnxruntime's vectorized kernels instead of a JavaScript loop. The outputs are written back into
// the input buffers: every op is elementwise, each element is read before it is written.
import { GraphBuilder } from "../onnx/builder.ts";
import { DataType, encodeModel, type ModelProto } from "../onnx/proto.ts";
import { openSession, type Session, type SessionOptions, Tensor } from "../onnx/session.ts";

export const BETA1 = 0.9;
export const BETA2 = 0.999;
export const EPS = 1e-8;

/** Elements per update run: small enough that the graph's temporaries stay in cache and use little memory. */
const CHUNK = 1 << 18;

function adamModel(): ModelProto {
  const b = new GraphBuilder("adam");
  const vec = (name: string) => ({
    name,
    type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimParam: "n" }] } } },
  });
  const scalar = (name: string) => ({
    name,
    type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [] } } },
  });
  const f = (v: number) => b.scalar(DataType.FLOAT, v);
  // torch: exp_avg.lerp_(grad, 1 − β1); exp_avg_sq.mul_(β2).addcmul_(grad, grad, 1 − β2)
  const m = b.op("Add", ["m", b.op("Mul", [b.op("Sub", ["g", "m"]), f(1 - BETA1)])]);
  const v = b.op("Add", [b.op("Mul", ["v", f(BETA2)]), b.op("Mul", [b.op("Mul", ["g", "g"]), f(1 - BETA2)])]);
  // denom = sqrt(v) / sqrt(bias_correction2) + eps; param.addcdiv_(m, denom, −step_size)
  const denom = b.op("Add", [b.op("Div", [b.op("Sqrt", [v]), "bc2_sqrt"]), f(EPS)]);
  const p = b.op("Add", ["p", b.op("Mul", [b.op("Div", [m, denom]), "neg_step_size"])]);
  b.nodes.push(
    { opType: "Identity", input: [m], output: ["m_out"], name: "adam/m" },
    { opType: "Identity", input: [v], output: ["v_out"], name: "adam/v" },
    { opType: "Identity", input: [p], output: ["p_out"], name: "adam/p" },
  );
  return {
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    graph: {
      name: "adam",
      node: b.nodes,
      initializer: b.initializers,
      input: [vec("p"), vec("m"), vec("v"), vec("g"), scalar("bc2_sqrt"), scalar("neg_step_size")],
      output: [vec("p_out"), vec("m_out"), vec("v_out")],
    },
  };
}

/** The update kernel: one onnxruntime session, applied chunk by chunk to any buffers. */
export class AdamKernel {
  private constructor(private readonly session: Session) {}

  static async create(session: SessionOptions = {}): Promise<AdamKernel> {
    return new AdamKernel(await openSession(encodeModel(adamModel()), session));
  }

  /** Step number `step` (1-based) of Adam on p with gradient g and moments m, v, all updated in place. */
  async update(p: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array, step: number, lr: number) {
    const bc1 = 1 - BETA1 ** step;
    const bc2 = 1 - BETA2 ** step;
    const bc2Sqrt = new Tensor("float32", Float32Array.of(Math.sqrt(bc2)), []);
    const negStep = new Tensor("float32", Float32Array.of(-lr / bc1), []);
    // Chunked: one pass over the whole buffer per op would stream gigabytes through memory for a large model.
    for (let start = 0; start < p.length; start += CHUNK) {
      const end = Math.min(start + CHUNK, p.length);
      const n = [end - start];
      const pt = new Tensor("float32", p.subarray(start, end), n);
      const mt = new Tensor("float32", m.subarray(start, end), n);
      const vt = new Tensor("float32", v.subarray(start, end), n);
      const gt = new Tensor("float32", g.subarray(start, end), n);
      await this.session.run(
        { p: pt, m: mt, v: vt, g: gt, bc2_sqrt: bc2Sqrt, neg_step_size: negStep },
        { p_out: pt, m_out: mt, v_out: vt },
      );
    }
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/** Adam state (moments, step count) over one flat parameter buffer, updated in place. */
export class FlatAdam {
  readonly m: Float32Array;
  readonly v: Float32Array;
  #step = 0;

  constructor(
    private readonly kernel: AdamKernel,
    readonly params: Float32Array,
    readonly grads: Float32Array,
  ) {
    this.m = new Float32Array(params.length);
    this.v = new Float32Array(params.length);
  }

  /** Zeroes the moments and the step count, for a new optimization over the same buffers. */
  reset(): void {
    this.m.fill(0);
    this.v.fill(0);
    this.#step = 0;
  }

  /** One update of params from grads with learning rate lr (torch's bias-corrected step size). */
  step(lr: number): Promise<void> {
    return this.kernel.update(this.params, this.m, this.v, this.grads, ++this.#step, lr);
  }
}
