// Grid images as A1111 returns them before the individual images: images side by side in reading order, and
// for the X/Y/Z plot its legend: each column's label above it, each row's at its left (A1111's
// draw_grid_annotations). Labels wrap at word boundaries and shrink until every line fits its cell, so 50
// columns of small images never overlap.
import { Buffer } from "node:buffer";
import sharp, { type OverlayOptions } from "sharp";

/** Labels of a grid's columns (above) and rows (left); empty lists or empty labels draw no margin. */
export interface Annotations {
  top: string[];
  left: string[];
}

export interface LabelLayout {
  font: number;
  /** Each label's lines. */
  lines: string[][];
}

const escapeXml = (s: string) =>
  s.replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!,
  );

/** A generous estimate of a line's width in DejaVu Sans (no font metrics at hand): wide letters count more. */
export function textWidth(text: string, font: number): number {
  let em = 0;
  for (const ch of text) em += /[A-Z@%mwMW]/.test(ch) ? 0.85 : 0.64;
  return em * font;
}

/** Words packed into lines no wider than `width`; undefined when one word alone is wider. */
function wrap(text: string, width: number, font: number): string[] | undefined {
  const lines: string[] = [];
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (textWidth(word, font) > width) return undefined;
    const last = lines.at(-1);
    if (last !== undefined && textWidth(`${last} ${word}`, font) <= width) {
      lines[lines.length - 1] += ` ${word}`;
    } else lines.push(word);
  }
  return lines;
}

/** Breaks a word into pieces that fit (the smallest font still too wide for it). */
function breakChars(text: string, width: number, font: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(/\s+/).filter(Boolean)) {
    let cur = "";
    for (const ch of word) {
      if (cur && textWidth(cur + ch, font) > width) {
        lines.push(cur);
        cur = "";
      }
      cur += ch;
    }
    if (cur) lines.push(cur);
  }
  return lines;
}

/** One font for all labels, the largest (from `font` down to `minFont`) at which every label wraps to fit. */
export function fitLabels(texts: string[], width: number, font: number, minFont = 8): LabelLayout {
  for (let f = font; f >= minFont; f--) {
    const lines = texts.map((t) => wrap(t, width, f));
    if (lines.every((l) => l !== undefined)) return { font: f, lines: lines as string[][] };
  }
  return { font: minFont, lines: texts.map((t) => breakChars(t, width, minFont)) };
}

const lineHeight = (font: number) => Math.round(font * 1.25);

function textSvg(width: number, height: number, parts: string[]): Buffer {
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
      `<rect width="100%" height="100%" fill="#fff"/>` +
      `<g font-family="DejaVu Sans, sans-serif" fill="#000" text-anchor="middle">${parts.join("")}</g></svg>`,
  );
}

/** Lines of one label centred on (cx, cy). */
function labelText(lines: string[], font: number, cx: number, cy: number): string {
  const lh = lineHeight(font);
  const first = cy - (lh * lines.length) / 2 + font * 0.85;
  return lines.map((l, i) =>
    `<text x="${cx}" y="${Math.round(first + i * lh)}" font-size="${font}">${escapeXml(l)}</text>`
  ).join("");
}

const pngSize = async (p: Uint8Array) => {
  const m = await sharp(p).metadata();
  return { w: m.width ?? 0, h: m.height ?? 0 };
};
const input = (p: Uint8Array) => Buffer.from(p.buffer, p.byteOffset, p.byteLength);

export async function gridImage(pngs: Uint8Array[], columns = pngs.length): Promise<Uint8Array> {
  if (pngs.length === 0) throw new Error("a grid needs at least one image");
  const sizes = await Promise.all(pngs.map(pngSize));
  const w = Math.max(...sizes.map((s) => s.w));
  const h = Math.max(...sizes.map((s) => s.h));
  const rows = Math.ceil(pngs.length / columns);
  const layers: OverlayOptions[] = pngs.map((p, i) => ({
    input: input(p),
    left: (i % columns) * w,
    top: Math.floor(i / columns) * h,
  }));
  const out = await sharp({
    create: { width: w * columns, height: h * rows, channels: 3, background: "#000" },
  })
    .composite(layers)
    .png()
    .toBuffer();
  return new Uint8Array(out);
}

/** The grid of `pngs` with its columns' labels above and its rows' labels at the left. */
export async function annotatedGrid(
  pngs: Uint8Array[],
  columns: number,
  labels: Annotations,
): Promise<Uint8Array> {
  const grid = await gridImage(pngs, columns);
  const { w, h } = await pngSize(pngs[0]);
  const rows = Math.ceil(pngs.length / columns);
  // Text stays readable on small images: at least 12 px, growing with the image.
  const font = Math.max(12, Math.round(h / 16));
  const margin = Math.round(font / 2);
  const hasTop = labels.top.some(Boolean);
  const hasLeft = labels.left.some(Boolean);
  const padLeft = hasLeft ? Math.max(Math.round((w * 3) / 4), font * 8) : 0;
  const top = fitLabels(hasTop ? labels.top.slice(0, columns) : [], w - 2 * margin, font);
  const left = fitLabels(hasLeft ? labels.left.slice(0, rows) : [], padLeft - 2 * margin, font);
  const topLines = Math.max(0, ...top.lines.map((l) => l.length));
  const padTop = hasTop ? topLines * lineHeight(top.font) + 2 * margin : 0;
  const width = padLeft + w * columns;
  const height = padTop + h * rows;
  const parts = [
    ...top.lines.map((l, i) => labelText(l, top.font, padLeft + i * w + w / 2, padTop / 2)),
    ...left.lines.map((l, j) => labelText(l, left.font, padLeft / 2, padTop + j * h + h / 2)),
  ];
  const out = await sharp({ create: { width, height, channels: 3, background: "#fff" } })
    .composite([
      { input: textSvg(width, height, parts), left: 0, top: 0 },
      { input: input(grid), left: padLeft, top: padTop },
    ])
    .png()
    .toBuffer();
  return new Uint8Array(out);
}
