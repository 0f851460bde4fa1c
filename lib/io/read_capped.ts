// Reads a file an outsider named (an image in a folder, an embedding) only when it is a regular file of bounded
// size. Opening a FIFO blocks until something writes to it, and a link to /dev/zero reads forever; a file can
// also grow after it was measured. So the target is checked before it is opened, and reading stops one byte
// past the cap whatever the size said.
import { InputError, InputLimitError } from "./input_error.ts";

/** The path is a FIFO, a device, a socket or a folder (after following links), not a regular file. */
export class NotRegularFileError extends InputError {}

function kind(info: Deno.FileInfo): string {
  if (info.isDirectory) return "a folder";
  if (info.isFifo) return "a FIFO";
  if (info.isCharDevice || info.isBlockDevice) return "a device";
  if (info.isSocket) return "a socket";
  return "not a regular file";
}

/**
 * The bytes of `path`, a regular file (links followed) of at most `maxBytes`. Throws NotRegularFileError or
 * InputLimitError naming `what`; errors of the file system (missing, no permission) pass through.
 */
export async function readRegularFile(path: string, maxBytes: number, what = path): Promise<Uint8Array> {
  const info = await Deno.stat(path);
  if (!info.isFile) throw new NotRegularFileError(`${what} is ${kind(info)}; only regular files are read`);
  const tooLarge = (size: string) =>
    new InputLimitError(`${what} is ${size} bytes, over the limit of ${maxBytes}`);
  if (info.size > maxBytes) throw tooLarge(String(info.size));
  using file = await Deno.open(path, { read: true });
  let buf = new Uint8Array(info.size + 1);
  let n = 0;
  for (;;) {
    if (n === buf.length) {
      if (n > maxBytes) throw tooLarge(`more than ${maxBytes}`);
      const bigger = new Uint8Array(Math.min(buf.length * 2, maxBytes + 1));
      bigger.set(buf);
      buf = bigger;
    }
    const got = await file.read(buf.subarray(n));
    if (got === null) break;
    n += got;
  }
  // The whole buffer at its exact length, so a caller can release it (release.ts) as one.
  return new Uint8Array(buf.buffer.transfer(n));
}
