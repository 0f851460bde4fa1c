// The embedded demo is where defaults.ts says, complete, and its embedding fits its CLIP pair.
import {
  DEFAULT_CLIP_DIR,
  DEFAULT_EMBEDDING,
  DEFAULT_MODEL_DIR,
  EMBEDDINGS_DIR,
  MODELS_DIR,
} from "../../../lib/models/defaults.ts";
import { inspectModelDir } from "../../../lib/models/inspect.ts";
import { embeddingProblems, pairingProblems } from "../../../lib/models/registry.ts";
import { readEmbedding } from "../../../lib/io/embedding.ts";
import { dirname } from "node:path";

Deno.test("the default model, CLIP pair and embedding are the embedded demo and fit together", async () => {
  if (dirname(DEFAULT_MODEL_DIR) !== MODELS_DIR || dirname(DEFAULT_CLIP_DIR) !== MODELS_DIR) {
    throw new Error("defaults are not under MODELS_DIR");
  }
  if (dirname(DEFAULT_EMBEDDING) !== EMBEDDINGS_DIR) throw new Error("embedding not under EMBEDDINGS_DIR");
  const model = await inspectModelDir(DEFAULT_MODEL_DIR);
  const clip = await inspectModelDir(DEFAULT_CLIP_DIR);
  if (model?.kind !== "sd1" || model.problems.length) throw new Error(`demo model: ${JSON.stringify(model)}`);
  if (clip?.kind !== "clip" || clip.problems.length) throw new Error(`demo clip: ${JSON.stringify(clip)}`);
  if (pairingProblems(model, clip).length) throw new Error("demo pair does not fit");
  if (model.textFingerprint !== clip.textFingerprint) {
    throw new Error("demo CLIP pair has other text weights");
  }
  const e = await readEmbedding(DEFAULT_EMBEDDING);
  const problems = embeddingProblems(e.data.length, clip);
  if (problems.length) throw new Error(problems.join("; "));
});
