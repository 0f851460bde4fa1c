// An X/Y grid image as A1111 returns it before the individual images: the images side by side (one row per
// axis value count), in value order, under a header naming the axis and each column's value.
import { Buffer } from "node:buffer";
import sharp, { type OverlayOptions } from "sharp";

/** The header of a grid over one axis: its name once, then one label per column. */
export interface GridLabels {
  axis: string;
  columns: string[];
}

const escapeXml = (s: string) =>
  s.replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!,
  );

function headerSvg(labels: GridLabels, w: number, columns: number, font: number): Buffer {
  const line = Math.round(font * 1.4);
  const width = w * columns;
  const texts = [
    `<text x="${width / 2}" y="${font * 1.1}" font-weight="bold">${escapeXml(labels.axis)}</text>`,
    ...labels.columns.slice(0, columns).map((c, i) =>
      `<text x="${i * w + w / 2}" y="${line + font * 1.1}">${escapeXml(c)}</text>`
    ),
  ];
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${2 * line}">` +
      `<rect width="100%" height="100%" fill="#fff"/>` +
      `<g font-family="DejaVu Sans, sans-serif" font-size="${font}" fill="#000" text-anchor="middle">` +
      `${texts.join("")}</g></svg>`,
  );
}

export async function gridImage(
  pngs: Uint8Array[],
  columns = pngs.length,
  labels?: GridLabels,
): Promise<Uint8Array> {
  if (pngs.length === 0) throw new Error("a grid needs at least one image");
  const metas = await Promise.all(pngs.map((p) => sharp(p).metadata()));
  const w = Math.max(...metas.map((m) => m.width ?? 0));
  const h = Math.max(...metas.map((m) => m.height ?? 0));
  const rows = Math.ceil(pngs.length / columns);
  // Text stays readable on small images: at least 12 px, growing with the image.
  const font = Math.max(12, Math.round(h / 16));
  const top = labels ? 2 * Math.round(font * 1.4) : 0;
  const layers: OverlayOptions[] = pngs.map((p, i) => ({
    input: Buffer.from(p.buffer, p.byteOffset, p.byteLength),
    left: (i % columns) * w,
    top: top + Math.floor(i / columns) * h,
  }));
  if (labels) layers.unshift({ input: headerSvg(labels, w, columns, font), left: 0, top: 0 });
  const out = await sharp({
    create: { width: w * columns, height: top + h * rows, channels: 3, background: "#000" },
  })
    .composite(layers)
    .png()
    .toBuffer();
  return new Uint8Array(out);
}
