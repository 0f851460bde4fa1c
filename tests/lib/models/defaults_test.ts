// The embedded demo is where defaults.ts says, complete, and its embedding fits its CLIP pair.
import { ok } from "node:assert";
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
  ok(
    dirname(DEFAULT_MODEL_DIR) === MODELS_DIR && dirname(DEFAULT_CLIP_DIR) === MODELS_DIR,
    "defaults are not under MODELS_DIR",
  );
  ok(dirname(DEFAULT_EMBEDDING) === EMBEDDINGS_DIR, "embedding not under EMBEDDINGS_DIR");
  const model = await inspectModelDir(DEFAULT_MODEL_DIR);
  const clip = await inspectModelDir(DEFAULT_CLIP_DIR);
  ok(!(model?.kind !== "sd1" || model.problems.length), `demo model: ${JSON.stringify(model)}`);
  ok(!(clip?.kind !== "clip" || clip.problems.length), `demo clip: ${JSON.stringify(clip)}`);
  ok(pairingProblems(model, clip).length === 0, "demo pair does not fit");
  ok(model.textFingerprint === clip.textFingerprint, "demo CLIP pair has other text weights");
  const e = await readEmbedding(DEFAULT_EMBEDDING);
  const problems = embeddingProblems(e.data.length, clip);
  ok(problems.length === 0, problems.join("; "));
});
