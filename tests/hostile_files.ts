// Test helper: the non-regular files a hostile folder can hold, made for real (Linux): a FIFO (opening it for
// reading blocks until a writer comes), and symlinks to /dev/zero (endless) and to a folder.
import { join } from "node:path";

export async function mkfifo(path: string): Promise<void> {
  const r = await new Deno.Command("mkfifo", { args: [path] }).output();
  if (!r.success) throw new Error(`mkfifo ${path}: ${new TextDecoder().decode(r.stderr)}`);
}

/** Makes `<name>` in `dir` for each kind, each with the given file name suffix; returns the paths by kind. */
export async function hostileEntries(dir: string, suffix: string): Promise<Record<string, string>> {
  const paths = {
    fifo: join(dir, `fifo${suffix}`),
    zero: join(dir, `zero${suffix}`),
    folder: join(dir, `folder-link${suffix}`),
  };
  await mkfifo(paths.fifo);
  await Deno.symlink("/dev/zero", paths.zero);
  await Deno.mkdir(join(dir, "a-folder"), { recursive: true });
  await Deno.symlink(join(dir, "a-folder"), paths.folder);
  return paths;
}

/** Rejects when `p` has not settled within `ms`: a read that blocks on a FIFO or streams /dev/zero. */
export async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
