// A job's peak memory, estimated before it runs, so a size the machine cannot hold is refused with a 422
// instead of failing inside onnxruntime (or taking the machine down). What grows with the image is the UNet's
// self-attention at its highest-resolution attention level: heads × (2 × batch for CFG) × T² scores, T the
// latent tokens there; onnxruntime keeps several such buffers alive at once. Measured on the tiny demo UNet
// (4 heads at full latent resolution), CPU, Euler, 1 step: 384×384 1.0 GB, 448×448 1.7 GB, 512×512 2.7 GB,
// 384×384 batch 2 1.8 GB: about 19 bytes per score beyond a fixed part; the estimate uses 24 bytes and 0.5 GB.
// The VAE comes on top (each onnxruntime session keeps its own arena, so the UNet's memory is still held while
// the VAE runs): its mid-block attention over all latent tokens (one head) and its full-resolution
// activations. Measured on the tiny demo's VAE alone (peak RSS over the open session): decoder 512² 0.14 GB,
// 768² 0.69 GB; encoder 512² 0.20 GB, 768² 0.82 GB: about 8–10 bytes per score; the estimate uses 12 and 8
// activation copies. Tiled (vae_tiling.ts), the VAE's part is that of one tile, plus the image being assembled.
import { join } from "node:path";
import type { ResolvedRequest } from "../diffusion/request.ts";
import { type VaeTiling, vaeTiling } from "../diffusion/vae_tiling.ts";
import { InputError } from "../io/input_error.ts";
import { readRegularFile } from "../io/read_capped.ts";

/** Bytes per attention score kept alive at the peak (scores, softmax and onnxruntime's copies), rounded up. */
export const BYTES_PER_SCORE = 24;
/** Session, weights of a small model, buffers that do not grow with the image. */
export const FIXED_BYTES = 512 << 20;
/** Bytes per score of the VAE's mid-block attention at its peak, rounded up. */
export const VAE_BYTES_PER_SCORE = 12;
/** Float activations of the VAE's widest full-resolution level alive at once, rounded up. */
export const VAE_ACTIVATION_COPIES = 8;

/** What the VAE's peak depends on (vae_decoder/config.json). */
export interface VaeLayout {
  /** Pixels per latent cell. */
  factor: number;
  /** Channels at full resolution (block_out_channels[0]). */
  channels: number;
  /** Whether the mid block has attention (all latent tokens, one head). */
  attention: boolean;
  tiling: VaeTiling;
}

export interface AttentionLayout {
  /** Heads of the first (highest-resolution) UNet level with attention. */
  heads: number;
  /** That level: tokens are (W/8 × H/8) / 4^level. */
  level: number;
  /** Bytes of the model's weights on disk (UNet, VAE decoder, text encoder). */
  weightBytes: number;
  /** Absent when the VAE's config cannot be read: the estimate is then the UNet's alone. */
  vae?: VaeLayout;
}

/** The shape of a job as the estimate sees it. */
export interface JobShape {
  width: number;
  height: number;
  batchSize: number;
  /** The largest size the job encodes or runs the UNet at (the hires fix's second pass), if larger. */
  largest?: { width: number; height: number };
  /** Whether the job runs the VAE encoder (img2img, a pixel hires upscaler). */
  encodes?: boolean;
  /** Whether the VAE runs in tiles. */
  tiledVae?: boolean;
}

/**
 * The shape of a resolved request: the hires fix's second pass (and its upscaled image, before the crop) is its
 * largest size; img2img and pixel upscalers encode. `tiledVae` as asked (undefined: as the budget decides).
 */
export function jobShape(r: ResolvedRequest, img2img: boolean, tiledVae: boolean | undefined): JobShape {
  const t = r.hires?.target;
  return {
    width: r.width,
    height: r.height,
    batchSize: r.batchSize,
    largest: t && {
      width: Math.max(r.width, t.width, t.upscaleWidth),
      height: Math.max(r.height, t.height, t.upscaleHeight),
    },
    encodes: img2img || (r.hires !== undefined && r.hires.upscaler.kind !== "latent"),
    tiledVae,
  };
}

interface VaeConfig {
  block_out_channels?: number[];
  sample_size?: number | number[];
  mid_block_add_attention?: boolean;
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

/** A part's config.json, or undefined when it cannot be read. */
async function readConfig<T>(modelDir: string, part: string): Promise<T | undefined> {
  try {
    return JSON.parse(
      new TextDecoder().decode(await readRegularFile(join(modelDir, part, "config.json"), 1 << 20)),
    ) as T;
  } catch {
    return undefined;
  }
}

async function vaeLayout(modelDir: string): Promise<VaeLayout | undefined> {
  const cfg = await readConfig<VaeConfig>(modelDir, "vae_decoder");
  const blocks = cfg?.block_out_channels;
  if (!cfg || !Array.isArray(blocks) || blocks.length === 0 || !blocks.every((b) => typeof b === "number")) {
    return undefined;
  }
  return {
    factor: 2 ** (blocks.length - 1),
    channels: blocks[0],
    attention: cfg.mid_block_add_attention ?? true,
    tiling: vaeTiling({ sample_size: cfg.sample_size, block_out_channels: blocks }),
  };
}

/** The layout read from the model's unet/config.json (diffusers' naming: attention_head_dim counts heads). */
export function attentionLayout(modelDir: string): Promise<AttentionLayout | undefined> {
  let p = layouts.get(modelDir);
  if (!p) {
    p = (async () => {
      const cfg = await readConfig<UNetConfig>(modelDir, "unet");
      if (!cfg) return undefined;
      const level = (cfg.down_block_types ?? []).findIndex((t) => /Attn/.test(t));
      if (level < 0) return undefined;
      const heads = cfg.num_attention_heads ?? cfg.attention_head_dim ?? 8;
      const weightBytes = (await Promise.all(["unet", "vae_decoder", "text_encoder"].map((p) =>
        sizeOf(join(modelDir, p))
      )))
        .reduce((a, b) => a + b, 0);
      return {
        heads: Array.isArray(heads) ? heads[level] : heads,
        level,
        weightBytes,
        vae: await vaeLayout(modelDir),
      };
    })();
    layouts.set(modelDir, p);
  }
  return p;
}

/** Peak bytes of one VAE run (decoder or encoder) over `images` images of width × height at once. */
function vaeRunBytes(vae: VaeLayout, width: number, height: number, images: number): number {
  const tokens = vae.attention ? (width / vae.factor) * (height / vae.factor) : 0;
  const activations = vae.channels * width * height * 4 * VAE_ACTIVATION_COPIES;
  return images * (tokens * tokens * VAE_BYTES_PER_SCORE + activations);
}

/** The VAE's part of a job's peak: its decoder, and its encoder when the job encodes. */
function vaeBytes(vae: VaeLayout, r: JobShape): number {
  const { width, height } = r.largest ?? r;
  const runs = r.encodes ? 2 : 1;
  if (!r.tiledVae) return runs * vaeRunBytes(vae, width, height, r.batchSize);
  // One tile of one image at a time (a tile may not be larger than the image), plus the images being
  // assembled: the output, the previous row of tiles and the current one, as float32.
  const side = vae.tiling.sampleTile;
  const tile = vaeRunBytes(vae, Math.min(side, width), Math.min(side, height), 1);
  return runs * tile + 3 * r.batchSize * 3 * width * height * 4;
}

/** The UNet's attention scores at their peak, at the job's largest size. */
function unetBytes(layout: AttentionLayout, r: JobShape): number {
  const { width, height } = r.largest ?? r;
  const tokens = (width / 8) * (height / 8) / 4 ** layout.level;
  return layout.heads * 2 * r.batchSize * tokens * tokens * BYTES_PER_SCORE;
}

/** Estimated peak bytes of one batch of `batchSize` images of width × height. */
export function estimatePeakBytes(layout: AttentionLayout, r: JobShape): number {
  const vae = layout.vae ? vaeBytes(layout.vae, r) : 0;
  return FIXED_BYTES + layout.weightBytes + unetBytes(layout, r) + vae;
}

const gb = (b: number) => `${(b / 2 ** 30).toFixed(1)} GB`;

/** How a job is to run within the budget. */
export interface MemoryPlan {
  /** Whether the VAE runs in tiles. */
  tiledVae: boolean;
  /** The estimated peak, as it will run. */
  peakBytes: number;
}

/**
 * Decides how a job runs within `maxBytes` (--max-memory): with the whole-image VAE when it fits, else with the
 * VAE in tiles (`tiledVae` undefined: automatic; true: always; false: never); refuses, saying why, what does
 * not fit either way.
 */
export function planMemory(layout: AttentionLayout, r: JobShape, maxBytes: number): MemoryPlan {
  const whole = estimatePeakBytes(layout, { ...r, tiledVae: false });
  if (r.tiledVae !== true && (whole <= maxBytes || r.tiledVae === false || !layout.vae)) {
    if (whole > maxBytes) throw overBudget(layout, r, whole, maxBytes, false);
    return { tiledVae: false, peakBytes: whole };
  }
  const tiled = estimatePeakBytes(layout, { ...r, tiledVae: true });
  if (tiled > maxBytes) throw overBudget(layout, r, tiled, maxBytes, true);
  return { tiledVae: true, peakBytes: tiled };
}

function overBudget(layout: AttentionLayout, r: JobShape, need: number, maxBytes: number, tiled: boolean) {
  const { width, height } = r.largest ?? r;
  const tokens = (width / 8) * (height / 8) / 4 ** layout.level;
  const parts = [
    `the UNet's attention over ${tokens} latent tokens, which grows with the square of the image area: ` +
    gb(unetBytes(layout, r)),
  ];
  if (layout.vae) {
    parts.push(`the VAE${tiled ? " in tiles" : ""}: ${gb(vaeBytes(layout.vae, { ...r, tiledVae: tiled }))}`);
  }
  const even = tiled ? " even with the VAE in tiles" : "";
  return new InputError(
    `${width}×${height} with batch size ${r.batchSize} needs about ${gb(need)}${even} (${
      parts.join("; ")
    }), ` +
      `over this server's memory budget of ${gb(maxBytes)} (--max-memory); use a smaller size or batch`,
    ["width"],
  );
}

/**
 * Whether a job's peak is large enough that onnxruntime's arenas should be given back after it: over twice that
 * of one image at the model's native size (what the sessions keep for ordinary jobs) and over 256 MiB more.
 */
export function isLargeJob(layout: AttentionLayout, peakBytes: number, nativeSize: number): boolean {
  const native = estimatePeakBytes(layout, { width: nativeSize, height: nativeSize, batchSize: 1 });
  return peakBytes > 2 * native && peakBytes > native + (256 << 20);
}

/** The default budget: three quarters of the machine's memory. */
export function defaultMaxMemory(): number {
  return Math.floor(Deno.systemMemoryInfo().total * 0.75);
}
