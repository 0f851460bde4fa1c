// The two hashes A1111 shows for a checkpoint file: the sha256 (its first 10 hex digits are the "[abcdef0123]"
// in the checkpoint list and the infotext's Model hash) and the old "model hash" (modules/sd_models.py
// model_hash: the sha256 of the 64 KiB at offset 1 MiB, first 8 hex digits), which older infotexts carry.
import { createHash } from "node:crypto";
import { closeSync, openSync, readSync } from "node:fs";

export interface FileHashes {
  sha256: string;
  /** sha256[0:10]. */
  shortHash: string;
  /** The legacy 8-digit model hash. */
  legacyHash: string;
}

const CHUNK = 1 << 22;

/** Streams the file once; `progress` gets bytes hashed so far. */
export function a1111Hashes(path: string, progress?: (bytes: number) => void): FileHashes {
  const fd = openSync(path, "r");
  try {
    const full = createHash("sha256");
    const buf = new Uint8Array(CHUNK);
    let position = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK, position);
      if (n <= 0) break;
      full.update(buf.subarray(0, n));
      position += n;
      progress?.(position);
    }
    const legacy = new Uint8Array(0x10000);
    const n = readSync(fd, legacy, 0, legacy.length, 0x100000);
    const sha256 = full.digest("hex");
    return {
      sha256,
      shortHash: sha256.slice(0, 10),
      legacyHash: createHash("sha256").update(legacy.subarray(0, Math.max(0, n))).digest("hex").slice(0, 8),
    };
  } finally {
    closeSync(fd);
  }
}
