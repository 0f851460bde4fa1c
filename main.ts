// `deno task serve`: the WebUI entry point. The WebUI itself (Hono + Preact, the A1111-style extension adapter
// and the /sdapi/v1 API) is not built yet; until it is, this says so plainly and points at what works today.
const message = `aesthetic-gradients: the WebUI is not available yet in this version.

What works today (see README.md):
  deno task personalize --model DIR --clip DIR --prompt P --embedding FILE [--steps T] [--lr LR] [--json]
  deno task embed --src DIR --name NAME [--clip DIR] [--out-dir DIR]
  deno task embed --inspect FILE [--json]`;

if (import.meta.main) {
  console.error(message);
  Deno.exit(1);
}
