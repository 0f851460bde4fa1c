// Names that come from a request and become files: confined to their folder. A name is one path component —
// no separators, no "." or "..", no leading dot, no control characters — so joining it to the folder cannot
// leave the folder, whatever the platform.
import { isAbsolute, join, relative, resolve } from "node:path";
import { InputError } from "./input_error.ts";

export class UnsafeNameError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = "UnsafeNameError";
  }
}

const MAX_NAME = 128;

/** Returns the name unchanged if it is a safe single file name; throws saying why not. */
export function checkName(name: string, what: string): string {
  if (name.length === 0) throw new UnsafeNameError(`${what} is empty`);
  if (name.length > MAX_NAME) throw new UnsafeNameError(`${what} is longer than ${MAX_NAME} characters`);
  if (isAbsolute(name) || /^[A-Za-z]:/.test(name)) {
    throw new UnsafeNameError(`${what} ${JSON.stringify(name)} must be a name, not an absolute path`);
  }
  if (name.split(/[\\/]/).includes("..")) {
    throw new UnsafeNameError(`${what} ${JSON.stringify(name)} must not contain ".."`);
  }
  if (/[\\/]/.test(name)) {
    throw new UnsafeNameError(`${what} ${JSON.stringify(name)} must not contain / or \\`);
  }
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name)) throw new UnsafeNameError(`${what} contains control characters`);
  if (name.startsWith(".")) {
    throw new UnsafeNameError(`${what} ${JSON.stringify(name)} must not start with "."`);
  }
  return name;
}

/** `folder/name`, after checking the name and that the result is inside the folder. */
export function pathIn(folder: string, name: string, what: string): string {
  checkName(name, what);
  const path = join(folder, name);
  const rel = relative(resolve(folder), resolve(path));
  if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) {
    throw new UnsafeNameError(`${what} ${JSON.stringify(name)} leaves its folder`);
  }
  return path;
}
