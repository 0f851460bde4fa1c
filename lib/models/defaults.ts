// Where the app looks for models and embeddings, relative to the repository, and the embedded demo used when
// nothing else is chosen, so a fresh checkout works without a download.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Model folders (pipelines and CLIP pairs) live here, one per subfolder. */
export const MODELS_DIR = join(ROOT, "models");
/** Aesthetic embeddings (.pt / .safetensors). */
export const EMBEDDINGS_DIR = join(ROOT, "embeddings");
/**
 * The embedded demo world (issue 11): an SD 1.x pipeline trained on 64×64 pictures of one shape on a flat
 * background, small enough to ship, so a fresh checkout draws what the prompt says and personalization visibly
 * moves the picture toward the chosen style.
 */
export const DEFAULT_MODEL_DIR = join(MODELS_DIR, "demo-world");
/** The demo world's CLIP pair (its text weights equal the demo pipeline's text encoder). */
export const DEFAULT_CLIP_DIR = join(MODELS_DIR, "demo-world-clip");
/** One of the demo world's style embeddings, made with `deno task embed` from 200 pastel images. */
export const DEFAULT_EMBEDDING = join(EMBEDDINGS_DIR, "pastel.pt");

/** The random-weight tiny demo: it draws noise, but it is the fastest complete pipeline, so the tests use it. */
export const TINY_DEMO_MODEL_DIR = join(MODELS_DIR, "tiny-demo");
export const TINY_DEMO_CLIP_DIR = join(MODELS_DIR, "tiny-demo-clip");
export const TINY_DEMO_EMBEDDING = join(EMBEDDINGS_DIR, "tiny-demo.pt");
