// What an imported folder remembers about the single file it came from (single_file.json): the file's A1111
// hashes, so the folder is listed under the hash A1111 shows for that file, and re-importing it is a no-op.
import { join } from "node:path";
import type { Prediction } from "./detect.ts";

export interface SingleFileRecord {
  source: string;
  sha256: string;
  shortHash: string;
  legacyHash: string;
  family: string;
  prediction: Prediction;
  vae?: string;
}

export const RECORD_FILE = "single_file.json";

export async function readRecord(dir: string): Promise<SingleFileRecord | undefined> {
  try {
    const r = JSON.parse(await Deno.readTextFile(join(dir, RECORD_FILE)));
    return typeof r?.sha256 === "string" && /^[0-9a-f]{64}$/.test(r.sha256)
      ? r as SingleFileRecord
      : undefined;
  } catch {
    return undefined;
  }
}
