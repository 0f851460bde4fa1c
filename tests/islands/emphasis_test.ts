// Ctrl+↑/↓ emphasis edits, as A1111's edit-attention makes them.
import { deepStrictEqual as assertEquals } from "node:assert";
import { editAttention } from "../../islands/emphasis.ts";

Deno.test("the word at the cursor is wrapped, raised, lowered and unwrapped at weight 1", () => {
  const a = editAttention("a red lighthouse", 4, 4, true);
  assertEquals(a, { text: "a (red:1.1) lighthouse", start: 3, end: 6 });
  const b = editAttention(a.text, a.start, a.end, true);
  assertEquals(b.text, "a (red:1.2) lighthouse");
  const c = editAttention(b.text, 5, 5, false);
  assertEquals(c.text, "a (red:1.1) lighthouse");
  const d = editAttention(c.text, c.start, c.end, false);
  assertEquals(d, { text: "a red lighthouse", start: 2, end: 5 });
  assertEquals(editAttention("a red lighthouse", 0, 16, false).text, "(a red lighthouse:0.9)");
});

Deno.test("a selected group is edited in place; nothing to select changes nothing", () => {
  assertEquals(editAttention("x, (sky:1.5), y", 3, 12, true).text, "x, (sky:1.6), y");
  assertEquals(editAttention("a, b", 2, 2, true), { text: "a, b", start: 2, end: 2 });
});
