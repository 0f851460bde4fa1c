// A job's peak memory, estimated before it runs, so a size the machine cannot hold is refused with a 422
// instead of failing inside onnxruntime (or taking the machine down). What grows with the image is the UNet's
// self-attention at its highest-resolution attention level: heads × (2 × batch for CFG) × T² scores, T the
// latent tokens there; onnxruntime keeps several such buffers alive at once. Measured on the tiny demo UNet
// (4 heads at full latent resolution), CPU, Euler, 1 step: 384×384 1.0 GB, 448×448 1.7 GB, 512×512 2.7 GB,
// 384×384 batch 2 1.8 GB: about 19 bytes per score beyond a fixed part; the estimate uses 24 bytes and 0.5 GB.
import { join } from "node:path";
import { InputError } from "../io/input_error.ts";
import { readRegularFile } from "../io/read_capped.ts";

/** Bytes per attention score kept alive at the peak (scores, softmax and onnxruntime's copies), rounded up. */
export const BYTES_PER_SCORE = 24;
/** Session, weights of a small model, buffers that do not grow with the image. */
export const FIXED_BYTES = 512 << 20;

export interface AttentionLayout {
  /** Heads of the first (highest-resolution) UNet level with attention. */
  heads: number;
  /** That level: tokens are (W/8 × H/8) / 4^level. */
  level: number;
  /** Bytes of the model's weights on disk (UNet, VAE decoder, text encoder). */
  weightBytes: number;
}

interface UNetConfig {
  down_block_types?: string[];
  attention_head_dim?: number | number[];
  num_attention_heads?: number | number[] | null;
}

const layouts = new Map<string, Promise<AttentionLayout | undefined>>();

async function sizeOf(dir: string): Promise<number> {
  let total = 0;
  try {
    for await (const e of Deno.readDir(dir)) if (e.isFile) total += (await Deno.stat(join(dir, e.name))).size;
  } catch {
    // a part that is absent weighs nothing
  }
  return total;
}

/** The layout read from the model's unet/config.json (diffusers' naming: attention_head_dim counts heads). */
export function attentionLayout(modelDir: string): Promise<AttentionLayout | undefined> {
  let p = layouts.get(modelDir);
  if (!p) {
    p = (async () => {
      let cfg: UNetConfig;
      try {
        cfg = JSON.parse(
          new TextDecoder().decode(await readRegularFile(join(modelDir, "unet", "config.json"), 1 << 20)),
        );
      } catch {
        return undefined;
      }
      const level = (cfg.down_block_types ?? []).findIndex((t) => /Attn/.test(t));
      if (level < 0) return undefined;
      const heads = cfg.num_attention_heads ?? cfg.attention_head_dim ?? 8;
      const weightBytes = (await Promise.all(["unet", "vae_decoder", "text_encoder"].map((p) =>
        sizeOf(join(modelDir, p))
      )))
        .reduce((a, b) => a + b, 0);
      return { heads: Array.isArray(heads) ? heads[level] : heads, level, weightBytes };
    })();
    layouts.set(modelDir, p);
  }
  return p;
}

/** Estimated peak bytes of one batch of `batchSize` images of width × height. */
export function estimatePeakBytes(
  layout: AttentionLayout,
  r: { width: number; height: number; batchSize: number },
) {
  const tokens = (r.width / 8) * (r.height / 8) / 4 ** layout.level;
  const scores = layout.heads * 2 * r.batchSize * tokens * tokens;
  return FIXED_BYTES + layout.weightBytes + scores * BYTES_PER_SCORE;
}

const gb = (b: number) => `${(b / 2 ** 30).toFixed(1)} GB`;

/** Refuses a job whose estimated peak is over `maxBytes` (--max-memory), saying why. */
export function checkMemoryBudget(
  layout: AttentionLayout,
  r: { width: number; height: number; batchSize: number },
  maxBytes: number,
): void {
  const need = estimatePeakBytes(layout, r);
  if (need <= maxBytes) return;
  throw new InputError(
    `${r.width}×${r.height} with batch size ${r.batchSize} needs about ${
      gb(need)
    } (the UNet's attention over ` +
      `${
        (r.width / 8) * (r.height / 8) / 4 ** layout.level
      } latent tokens grows with the square of the image ` +
      `area), over this server's memory budget of ${
        gb(maxBytes)
      } (--max-memory); use a smaller size or batch`,
    ["width"],
  );
}

/** The default budget: three quarters of the machine's memory. */
export function defaultMaxMemory(): number {
  return Math.floor(Deno.systemMemoryInfo().total * 0.75);
}
