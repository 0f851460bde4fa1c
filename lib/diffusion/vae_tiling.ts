// Tiled VAE: the decoder (or encoder) runs on overlapping tiles of one image and the overlaps are blended
// linearly, so its memory stays that of one tile whatever the image's size. The tiling is diffusers'
// AutoencoderKL.enable_tiling(): tiles of the config's sample_size pixels (its latent size on the other side),
// each starting 3/4 of a tile after the previous one (so the last ones may be partial), every tile blended
// with the already blended tile above it and then with the one to its left over 1/4 of an output tile, and
// each tile's output cut to its first (1 − 1/4) output tile before they are put side by side. Results differ
// from the untiled VAE (each tile sees only its part of the image), by little.

const f = Math.fround;

/** Tile sizes on both sides of the VAE, from its config. */
export interface VaeTiling {
  /** Side of a tile in pixels: the config's sample_size. */
  sampleTile: number;
  /** Side of a tile in latent cells: sample_size / 2^(len(block_out_channels) − 1). */
  latentTile: number;
}

/** Share of a tile that overlaps its neighbour. */
export const TILE_OVERLAP = 0.25;

/** diffusers' tile sizes for a VAE config (sample_size may be a list; its first value is used). */
export function vaeTiling(config: { sample_size?: unknown; block_out_channels: unknown[] }): VaeTiling {
  const raw = Array.isArray(config.sample_size) ? config.sample_size[0] : config.sample_size;
  const sampleTile = typeof raw === "number" && raw > 0 ? raw : 512;
  const latentTile = Math.trunc(sampleTile / 2 ** (config.block_out_channels.length - 1));
  if (latentTile < 1) throw new Error(`the VAE's sample_size ${sampleTile} is too small to tile`);
  return { sampleTile, latentTile };
}

/** One image, channels first: C × H × W. */
export interface Planes {
  data: Float32Array;
  channels: number;
  height: number;
  width: number;
}

/** Runs the VAE part on one tile (1 × C × h × w) and returns its output tile. */
export type TileRunner = (tile: Planes) => Promise<Planes>;

/** Whether an input of height × width (in the input's own units) is larger than one tile and so tiles. */
export function needsTiles(height: number, width: number, inTile: number): boolean {
  return height > inTile || width > inTile;
}

function crop(x: Planes, top: number, left: number, side: number): Planes {
  const height = Math.min(side, x.height - top);
  const width = Math.min(side, x.width - left);
  const data = new Float32Array(x.channels * height * width);
  for (let c = 0; c < x.channels; c++) {
    for (let y = 0; y < height; y++) {
      const src = (c * x.height + top + y) * x.width + left;
      data.set(x.data.subarray(src, src + width), (c * height + y) * width);
    }
  }
  return { data, channels: x.channels, height, width };
}

/** b's first rows fade in from a's last rows (diffusers' blend_v); b is changed in place. */
function blendRows(a: Planes, b: Planes, extent: number): void {
  const e = Math.min(a.height, b.height, extent);
  for (let y = 0; y < e; y++) {
    const wa = f(1 - y / e);
    const wb = f(y / e);
    for (let c = 0; c < b.channels; c++) {
      const ra = (c * a.height + a.height - e + y) * a.width;
      const rb = (c * b.height + y) * b.width;
      for (let x = 0; x < b.width; x++) b.data[rb + x] = f(f(a.data[ra + x] * wa) + f(b.data[rb + x] * wb));
    }
  }
}

/** b's first columns fade in from a's last columns (diffusers' blend_h); b is changed in place. */
function blendColumns(a: Planes, b: Planes, extent: number): void {
  const e = Math.min(a.width, b.width, extent);
  for (let c = 0; c < b.channels; c++) {
    for (let y = 0; y < b.height; y++) {
      const ra = (c * a.height + y) * a.width + a.width - e;
      const rb = (c * b.height + y) * b.width;
      for (let x = 0; x < e; x++) {
        b.data[rb + x] = f(f(a.data[ra + x] * f(1 - x / e)) + f(b.data[rb + x] * f(x / e)));
      }
    }
  }
}

/**
 * Runs `run` over overlapping tiles of `input` (tiles of `inTile`, outputs of `outTile`) and assembles the
 * blended output. Only the previous row of output tiles is kept besides the result.
 */
export async function runTiled(
  input: Planes,
  inTile: number,
  outTile: number,
  run: TileRunner,
): Promise<Planes> {
  const stride = Math.trunc(inTile * (1 - TILE_OVERLAP));
  const extent = Math.trunc(outTile * TILE_OVERLAP);
  const limit = outTile - extent;
  let above: Planes[] | undefined;
  const bands: Planes[] = [];
  for (let top = 0; top < input.height; top += stride) {
    const row: Planes[] = [];
    for (let left = 0; left < input.width; left += stride) {
      const tile = await run(crop(input, top, left, inTile));
      if (above) blendRows(above[row.length], tile, extent);
      if (row.length > 0) blendColumns(row[row.length - 1], tile, extent);
      row.push(tile);
    }
    // The kept part of each tile of this row, side by side; the row itself stays for the next row's blend.
    bands.push(concatColumns(row.map((t) => crop(t, 0, 0, limit))));
    above = row;
  }
  return concatRows(bands);
}

function concatColumns(tiles: Planes[]): Planes {
  const { channels, height } = tiles[0];
  const width = tiles.reduce((s, t) => s + t.width, 0);
  const data = new Float32Array(channels * height * width);
  let left = 0;
  for (const t of tiles) {
    for (let c = 0; c < channels; c++) {
      for (let y = 0; y < height; y++) {
        const src = (c * height + y) * t.width;
        data.set(t.data.subarray(src, src + t.width), (c * height + y) * width + left);
      }
    }
    left += t.width;
  }
  return { data, channels, height, width };
}

function concatRows(bands: Planes[]): Planes {
  const { channels, width } = bands[0];
  const height = bands.reduce((s, b) => s + b.height, 0);
  const data = new Float32Array(channels * height * width);
  let top = 0;
  for (const b of bands) {
    for (let c = 0; c < channels; c++) {
      data.set(b.data.subarray(c * b.height * width, (c + 1) * b.height * width), (c * height + top) * width);
    }
    top += b.height;
  }
  return { data, channels, height, width };
}
