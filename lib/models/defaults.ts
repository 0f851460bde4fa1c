// Where the app looks for models and embeddings, relative to the repository, and the embedded demo used when
// nothing else is chosen, so a fresh checkout works without a download.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Model folders (pipelines and CLIP pairs) live here, one per subfolder. */
export const MODELS_DIR = join(ROOT, "models");
/** Aesthetic embeddings (.pt / .safetensors). */
export const EMBEDDINGS_DIR = join(ROOT, "embeddings");
/** The embedded tiny SD 1.x demo pipeline (random weights). */
export const DEFAULT_MODEL_DIR = join(MODELS_DIR, "tiny-demo");
/** The demo pipeline's CLIP pair (its text weights equal the demo's text encoder). */
export const DEFAULT_CLIP_DIR = join(MODELS_DIR, "tiny-demo-clip");
/** The demo aesthetic embedding, made with the demo CLIP pair. */
export const DEFAULT_EMBEDDING = join(EMBEDDINGS_DIR, "tiny-demo.pt");
