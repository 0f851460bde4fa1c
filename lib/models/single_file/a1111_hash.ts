// The two hashes A1111 shows for a checkpoint file: the sha256 (its first 10 hex digits are the "[abcdef0123]"
// in the checkpoint list and the infotext's Model hash) and the old "model hash" (modules/sd_models.py
// model_hash: the sha256 of the 64 KiB at offset 1 MiB, first 8 hex digits), which older infotexts carry.
import { createHash } from "node:crypto";

export interface FileHashes {
  sha256: string;
  /** sha256[0:10]. */
  shortHash: string;
  /** The legacy 8-digit model hash. */
  legacyHash: string;
}

const CHUNK = 1 << 22;

/**
 * Streams the file once; `progress` gets bytes hashed so far. Reads are awaited, so a server hashing a
 * multi-GB file in the background keeps answering.
 */
export async function a1111Hashes(path: string, progress?: (bytes: number) => void): Promise<FileHashes> {
  const file = await Deno.open(path, { read: true });
  try {
    const full = createHash("sha256");
    const buf = new Uint8Array(CHUNK);
    const legacy = new Uint8Array(0x10000);
    let legacyLength = 0;
    let position = 0;
    for (;;) {
      const n = await file.read(buf);
      if (n === null) break;
      const chunk = buf.subarray(0, n);
      full.update(chunk);
      // The legacy window [1 MiB, 1 MiB + 64 KiB) may straddle chunks.
      const from = Math.max(position, 0x100000), to = Math.min(position + n, 0x110000);
      if (from < to) {
        legacy.set(chunk.subarray(from - position, to - position), from - 0x100000);
        legacyLength = to - 0x100000;
      }
      position += n;
      progress?.(position);
    }
    const sha256 = full.digest("hex");
    return {
      sha256,
      shortHash: sha256.slice(0, 10),
      legacyHash: createHash("sha256").update(legacy.subarray(0, legacyLength)).digest("hex").slice(0, 8),
    };
  } finally {
    file.close();
  }
}
