// The mean of a stream of vectors in constant memory: a float64 sum and a count.

export class RunningMean {
  readonly dim: number;
  #sum: Float64Array;
  #count = 0;

  constructor(dim: number) {
    if (!Number.isInteger(dim) || dim <= 0) {
      throw new Error(`vector width must be a positive integer, got ${dim}`);
    }
    this.dim = dim;
    this.#sum = new Float64Array(dim);
  }

  get count(): number {
    return this.#count;
  }

  /** Adds `rows` vectors stored row-major in `data`. */
  add(data: Float32Array, rows: number): void {
    if (data.length !== rows * this.dim) {
      throw new Error(`expected ${rows}×${this.dim} values, got ${data.length}`);
    }
    for (let r = 0; r < rows; r++) {
      const o = r * this.dim;
      for (let i = 0; i < this.dim; i++) this.#sum[i] += data[o + i];
    }
    this.#count += rows;
  }

  mean(): Float32Array {
    if (this.#count === 0) throw new Error("the mean of no vectors is undefined");
    return Float32Array.from(this.#sum, (s) => s / this.#count);
  }
}
