// Resource limits of the server, as options of `deno task serve` rather than bounds in the API's schema (A1111's
// API has none): a request over one answers 422 naming the option that sets it.
import { InputError } from "../io/input_error.ts";
import type { JobRequest } from "../extensions/job.ts";

export interface ServerLimits {
  /** Sampling steps of one image (--max-steps). */
  maxSteps: number;
  /** Images denoised together (--max-batch-size). */
  maxBatchSize: number;
  /** Images of one request: batch size × batch count × X/Y values (--max-images). */
  maxImages: number;
}

export const DEFAULT_LIMITS: ServerLimits = { maxSteps: 1000, maxBatchSize: 16, maxImages: 256 };

/** The command-line option of each limit, for the error and the README. */
export const LIMIT_FLAGS: Record<keyof ServerLimits, string> = {
  maxSteps: "--max-steps",
  maxBatchSize: "--max-batch-size",
  maxImages: "--max-images",
};

function over(what: string, value: number, limit: keyof ServerLimits, limits: ServerLimits, loc: string[]) {
  return new InputError(
    `${what} ${value} is over this server's limit of ${limits[limit]} (set by ${LIMIT_FLAGS[limit]})`,
    loc,
  );
}

export function checkLimits(
  r: Pick<JobRequest, "steps" | "batchSize" | "batchCount">,
  l: ServerLimits,
  runs = 1,
) {
  if (r.steps > l.maxSteps) throw over("steps", r.steps, "maxSteps", l, ["steps"]);
  if (r.batchSize > l.maxBatchSize) throw over("batch size", r.batchSize, "maxBatchSize", l, ["batchSize"]);
  const images = r.batchSize * r.batchCount * runs;
  if (images > l.maxImages) {
    throw over("the number of images (batch size × batch count × X/Y values)", images, "maxImages", l, [
      "batchCount",
    ]);
  }
}
