// An X/Y grid image as A1111 returns it before the individual images: the images side by side (one row per
// axis value count), in value order.
import { Buffer } from "node:buffer";
import sharp from "sharp";

export async function gridImage(pngs: Uint8Array[], columns = pngs.length): Promise<Uint8Array> {
  if (pngs.length === 0) throw new Error("a grid needs at least one image");
  const metas = await Promise.all(pngs.map((p) => sharp(p).metadata()));
  const w = Math.max(...metas.map((m) => m.width ?? 0));
  const h = Math.max(...metas.map((m) => m.height ?? 0));
  const rows = Math.ceil(pngs.length / columns);
  const out = await sharp({
    create: { width: w * columns, height: h * rows, channels: 3, background: "#000" },
  })
    .composite(
      pngs.map((p, i) => ({
        input: Buffer.from(p.buffer, p.byteOffset, p.byteLength),
        left: (i % columns) * w,
        top: Math.floor(i / columns) * h,
      })),
    )
    .png()
    .toBuffer();
  return new Uint8Array(out);
}
