// Test-only access to the reference fixtures that tests/fixtures/generate.py computed with PyTorch.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "fixtures");
export const MODELS = join(FIXTURES, "models");

/** A float32 tensor stored by the generator: a raw little-endian file and its shape. */
export interface TensorRef {
  file: string;
  shape: number[];
}

// deno-lint-ignore no-explicit-any -- the manifest is JSON whose shape each test asserts for itself
export type Manifest = Record<string, any>;

let manifest: Manifest | undefined;

export function refs(): Manifest {
  manifest ??= JSON.parse(Deno.readTextFileSync(join(FIXTURES, "refs", "manifest.json")));
  return manifest!;
}

export function readRef(ref: TensorRef): Float32Array {
  const bytes = Deno.readFileSync(join(FIXTURES, "refs", ref.file));
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return Number.isNaN(m) ? Infinity : m;
}

/** Fails with the worst difference when a and b differ by more than tol anywhere. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what = "") {
  const d = maxAbsDiff(actual, expected);
  if (!(d <= tol)) throw new Error(`${what} max abs diff ${d} > ${tol}`);
}
