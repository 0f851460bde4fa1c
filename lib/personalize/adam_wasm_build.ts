// Dev-time: assembles adam.wat into the bytes adam_wasm.ts embeds (`deno task wasm`). The tests assemble it
// again and compare, so the embedded module is always the one its source describes.
import initWabt from "wabt";

const here = new URL(".", import.meta.url);

/** The WebAssembly binary of adam.wat (SIMD and 64-bit memory enabled). */
export async function assembleAdam(): Promise<Uint8Array> {
  const wabt = await initWabt();
  const text = await Deno.readTextFile(new URL("adam.wat", here));
  const module = wabt.parseWat("adam.wat", text, { simd: true, memory64: true });
  try {
    module.validate();
    return module.toBinary({}).buffer;
  } finally {
    module.destroy();
  }
}

/** The TypeScript module that embeds the binary (base64, 64 characters a line). */
export function embeddingModule(bytes: Uint8Array): string {
  let b64 = "";
  for (let i = 0; i < bytes.length; i += 48) {
    b64 += btoa(String.fromCharCode(...bytes.subarray(i, i + 48))) + "\n";
  }
  return `// Generated from adam.wat by \`deno task wasm\` (lib/personalize/adam_wasm_build.ts); do not edit.\n` +
    `export const ADAM_WASM_BASE64 = \`\n${b64}\`;\n`;
}

if (import.meta.main) {
  const out = new URL("adam_wasm.ts", here);
  const tmp = new URL("adam_wasm.ts.tmp", here);
  await Deno.writeTextFile(tmp, embeddingModule(await assembleAdam()));
  await Deno.rename(tmp, out);
  console.log(`wrote ${out.pathname}`);
}
