import { deepStrictEqual as assertEquals, throws } from "node:assert";
import { join } from "node:path";
import { checkName, pathIn, UnsafeNameError } from "../../../lib/io/safe_name.ts";

Deno.test("plain names pass, unchanged", () => {
  for (const n of ["sunsets", "my style.pt", "a-b_c.safetensors", "日本"]) {
    assertEquals(checkName(n, "name"), n);
  }
  assertEquals(pathIn("/data/emb", "x.pt", "embedding"), join("/data/emb", "x.pt"));
});

Deno.test("names that could leave the folder are refused, saying why", () => {
  const cases: [string, RegExp][] = [
    ["", /empty/],
    ["..", /must not contain "\.\."/],
    ["../x", /must not contain "\.\."/],
    ["a/../../b", /must not contain "\.\."/],
    ["..\\x", /must not contain "\.\."/],
    ["/etc/passwd", /absolute path/],
    ["C:\\x", /absolute path/],
    ["a/b", /must not contain \/ or \\/],
    [".hidden", /must not start with "\."/],
    ["a\u0000b", /control characters/],
    ["x".repeat(200), /longer than/],
  ];
  for (const [name, why] of cases) {
    throws(() => pathIn("/data/emb", name, "embedding name"), (e: Error) => {
      return e instanceof UnsafeNameError && why.test(e.message) && e.message.startsWith("embedding name");
    });
  }
});
