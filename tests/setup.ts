// Run by `deno task test` before the tests: the browser test drives Debian's Chromium (Playwright's own browser
// download does not work here), so install it when it is missing and we are root; otherwise say what to do.
// The queue tests start Debian's redis-server: installed the same way, but only skipped when it cannot be.
export const CHROMIUM = "/usr/bin/chromium";
export const REDIS_SERVER = "/usr/bin/redis-server";

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

async function run(cmd: string, args: string[]): Promise<void> {
  const r = await new Deno.Command(cmd, {
    args,
    env: { DEBIAN_FRONTEND: "noninteractive" },
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!r.success) throw new Error(`${cmd} ${args.join(" ")} failed with exit code ${r.code}`);
}

if (import.meta.main) {
  if (!exists(REDIS_SERVER)) {
    if (Deno.uid() !== 0) {
      console.error(
        `tests/setup.ts: ${REDIS_SERVER} is missing and this is not root: the queue tests will be skipped`,
      );
    } else {
      try {
        console.error(`tests/setup.ts: installing Debian's redis-server for the queue tests…`);
        await run("apt-get", ["update", "-qq"]);
        await run("apt-get", ["install", "-y", "-qq", "redis-server"]);
      } catch (e) {
        console.error(`tests/setup.ts: ${(e as Error).message}: the queue tests will be skipped`);
      }
    }
  }
  if (!exists(CHROMIUM)) {
    if (Deno.uid() !== 0) {
      console.error(
        `tests/setup.ts: ${CHROMIUM} is missing and this is not root, so it cannot be installed here.\n` +
          `Install it with: sudo apt-get update && sudo apt-get install -y chromium`,
      );
      Deno.exit(1);
    }
    console.error(`tests/setup.ts: installing Debian's chromium for the browser test…`);
    await run("apt-get", ["update", "-qq"]);
    await run("apt-get", ["install", "-y", "-qq", "chromium"]);
    if (!exists(CHROMIUM)) {
      console.error(`tests/setup.ts: apt-get installed chromium but ${CHROMIUM} is still missing`);
      Deno.exit(1);
    }
  }
}
