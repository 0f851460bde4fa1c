// deno task txt2img --prompt P [paper's txt2img.py flags] [--model DIR] [--sampler NAME] [--json]
// Stable Diffusion txt2img through ONNX Runtime, optionally personalized with an aesthetic embedding
// (--aesthetic_steps > 0). See lib/diffusion/cli_generate.ts for every flag.
import { main } from "./lib/diffusion/cli_generate.ts";

if (import.meta.main) await main("txt2img");
