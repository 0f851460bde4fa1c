// The eval's pictures: a labelled contact sheet (rows = prompt × seed, columns = steps values) and a chart of a
// measure against the steps, both drawn as SVG over the images and rasterized by sharp.
import { Buffer } from "node:buffer";
import sharp from "sharp";
import type { RgbImage } from "../io/image.ts";
import type { Summary } from "./stats.ts";

export interface SheetRow {
  label: string;
  images: RgbImage[];
}

const LABEL_W = 260;
const HEADER_H = 28;

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Breaks a label into lines of at most `width` characters, on spaces where it can. */
function wrap(text: string, width: number, maxLines: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && (line + " " + word).length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.length > maxLines ? [...lines.slice(0, maxLines - 1), lines[maxLines - 1] + "…"] : lines;
}

/** Cells are the images scaled up by a whole factor to at least 128 pixels (nearest, so pixels stay visible). */
export async function contactSheet(columns: string[], rows: SheetRow[]): Promise<Uint8Array> {
  if (rows.length === 0 || columns.length === 0) throw new Error("a contact sheet needs rows and columns");
  const first = rows[0].images[0];
  const scale = Math.max(1, Math.ceil(128 / Math.max(first.width, first.height)));
  const cw = first.width * scale, ch = first.height * scale;
  const width = LABEL_W + columns.length * cw, height = HEADER_H + rows.length * ch;
  const text: string[] = [];
  columns.forEach((c, i) => {
    text.push(`<text x="${LABEL_W + i * cw + cw / 2}" y="19" text-anchor="middle">${escapeXml(c)}</text>`);
  });
  rows.forEach((r, i) => {
    wrap(r.label, 34, Math.floor(ch / 16)).forEach((line, k) => {
      text.push(`<text x="6" y="${HEADER_H + i * ch + 18 + 16 * k}">${escapeXml(line)}</text>`);
    });
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<rect width="100%" height="100%" fill="white"/>` +
    `<g font-family="DejaVu Sans, sans-serif" font-size="13" fill="#222">${text.join("")}</g></svg>`;
  const cells = await Promise.all(rows.flatMap((r, i) =>
    r.images.map(async (img, j) => ({
      input: await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
        .resize(cw, ch, { kernel: "nearest" }).png().toBuffer(),
      left: LABEL_W + j * cw,
      top: HEADER_H + i * ch,
    }))
  ));
  const out = await sharp(Buffer.from(svg)).composite(cells).removeAlpha().png().toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** An SVG line chart of one measure's mean (with its 95 % interval as bars) against the steps values. */
export function chartSvg(title: string, steps: number[], summaries: Summary[]): string {
  const W = 480, H = 300, L = 60, R = 20, T = 36, B = 44;
  const finite = summaries.flatMap((s) => [s.low, s.high, s.mean]).filter(Number.isFinite);
  let lo = Math.min(...finite), hi = Math.max(...finite);
  if (!(hi > lo)) [lo, hi] = [lo - 0.01, hi + 0.01];
  const pad = (hi - lo) * 0.1;
  [lo, hi] = [lo - pad, hi + pad];
  const maxStep = Math.max(1, ...steps);
  const x = (s: number) => L + ((W - L - R) * s) / maxStep;
  const y = (v: number) => T + ((H - T - B) * (hi - v)) / (hi - lo);
  const parts: string[] = [
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#444"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#444"/>`,
    `<text x="${(L + W - R) / 2}" y="${H - 8}" text-anchor="middle">aesthetic steps</text>`,
  ];
  for (const s of steps) {
    parts.push(`<text x="${x(s)}" y="${H - B + 16}" text-anchor="middle">${s}</text>`);
  }
  for (let k = 0; k <= 4; k++) {
    const v = lo + ((hi - lo) * k) / 4;
    parts.push(`<text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(3)}</text>`);
  }
  const pts = steps.map((s, i) => [x(s), y(summaries[i].mean)] as const).filter(([, v]) =>
    Number.isFinite(v)
  );
  parts.push(
    `<polyline fill="none" stroke="#c33" stroke-width="2" points="${
      pts.map((p) => p.join(",")).join(" ")
    }"/>`,
  );
  steps.forEach((s, i) => {
    const sm = summaries[i];
    if (!Number.isFinite(sm.mean)) return;
    parts.push(`<line x1="${x(s)}" y1="${y(sm.low)}" x2="${x(s)}" y2="${y(sm.high)}" stroke="#c33"/>`);
    parts.push(`<circle cx="${x(s)}" cy="${y(sm.mean)}" r="3" fill="#c33"/>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans, sans-serif" ` +
    `font-size="11" fill="#222">${parts.join("")}</svg>`;
}

export async function svgToPng(svg: string): Promise<Uint8Array> {
  const out = await sharp(Buffer.from(svg)).removeAlpha().png().toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}
