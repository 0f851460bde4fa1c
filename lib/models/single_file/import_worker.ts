// The single-file import on a worker thread, for the server: writing gigabytes of weights is synchronous file
// work that would otherwise stall every request (progress polls included) until the import ends.
// Messages out: {progress: [stage, done, total]}, then {done: true} or {error, input}.
/// <reference lib="deno.worker" />
import { InputError } from "../../io/input_error.ts";
import { type ImportOptions, importSingleFile } from "./import.ts";

export interface ImportRequest {
  file: string;
  options: Omit<ImportOptions, "onProgress">;
}

export type ImportMessage =
  | { progress: [string, number, number] }
  | { done: true }
  | { error: string; input: boolean };

self.onmessage = async (e: MessageEvent<ImportRequest>) => {
  const post = (m: ImportMessage) => self.postMessage(m);
  try {
    let last = 0;
    await importSingleFile(e.data.file, {
      ...e.data.options,
      onProgress: (stage, done, total) => {
        const now = performance.now();
        if (now - last < 100 && done < total) return;
        last = now;
        post({ progress: [stage, done, total] });
      },
    });
    post({ done: true });
  } catch (err) {
    post({ error: (err as Error).message, input: err instanceof InputError });
  }
};
