// Test helper: a small txt2img job request on the demo model, with the fields a test cares about changed.
import type { JobRequest } from "../lib/extensions/job.ts";

export function jobRequest(change: Partial<JobRequest> = {}): JobRequest {
  return {
    prompt: "a painting of a lighthouse",
    negativePrompt: "",
    sampler: "Euler a",
    steps: 2,
    width: 64,
    height: 64,
    cfgScale: 7,
    seed: 1,
    batchCount: 1,
    batchSize: 1,
    denoisingStrength: 0.75,
    model: "tiny-demo",
    ...change,
  };
}
