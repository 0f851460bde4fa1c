// Prompt styles in A1111's styles.csv format (columns name, prompt, negative_prompt; "{prompt}" in a style marks
// where the prompt goes, otherwise the style is appended after a comma), applied by a request's `styles`.
import { readRegularFile } from "../io/read_capped.ts";
import { InputError } from "../io/input_error.ts";

export interface PromptStyle {
  name: string;
  prompt: string;
  negative_prompt: string;
}

/** RFC 4180 rows: quoted fields may hold commas, newlines and doubled quotes. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') field += text[++i];
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") row.push(field), field = "";
    else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      row.push(field), rows.push(row), row = [], field = "";
    } else field += ch;
  }
  if (field !== "" || row.length) row.push(field), rows.push(row);
  return rows.filter((r) => r.some((f) => f !== ""));
}

export function parseStyles(text: string): PromptStyle[] {
  const [header, ...rows] = parseCsv(text.replace(/^\uFEFF/, ""));
  if (!header) return [];
  const col = (name: string) => header.findIndex((h) => h.trim().toLowerCase() === name);
  const [n, p, np] = [col("name"), col("prompt"), col("negative_prompt")];
  if (n < 0) throw new Error("styles.csv has no name column");
  return rows.map((r) => ({ name: r[n] ?? "", prompt: r[p] ?? "", negative_prompt: r[np] ?? "" }))
    .filter((s) => s.name !== "");
}

export async function loadStyles(file: string): Promise<PromptStyle[]> {
  let bytes: Uint8Array;
  try {
    bytes = await readRegularFile(file, 4 << 20, "styles.csv");
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  return parseStyles(new TextDecoder().decode(bytes));
}

function merge(style: string, prompt: string): string {
  if (style.includes("{prompt}")) return style.replaceAll("{prompt}", prompt);
  return [prompt.trim(), style.trim()].filter(Boolean).join(", ");
}

/** The prompt and negative prompt with each named style applied in order; an unknown name is a 422. */
export function applyStyles(
  styles: PromptStyle[],
  prompt: string,
  negative: string,
  names: string[],
): [string, string] {
  for (const [i, name] of names.entries()) {
    const s = styles.find((s) => s.name === name);
    if (!s) {
      throw new InputError(
        `style ${JSON.stringify(name)} is not in styles.csv (known: ${styles.map((s) => s.name).join(", ")})`,
        ["styles", i],
      );
    }
    prompt = merge(s.prompt, prompt);
    negative = merge(s.negative_prompt, negative);
  }
  return [prompt, negative];
}
