// A prompt box as in A1111: a token counter in its corner ("12/75", with the checkpoint's tokenizer on the
// server) and Ctrl+↑/↓ to raise or lower the emphasis of the selection or the word at the cursor.
import { useEffect, useState } from "preact/hooks";
import type { TokenCount } from "../lib/server/token_count.ts";
import { api } from "./api.ts";
import { editAttention } from "./emphasis.ts";

export function PromptBox(
  { id, value, set, placeholder, rows }: {
    id: string;
    value: string;
    set: (v: string) => void;
    placeholder: string;
    rows: number;
  },
) {
  const [count, setCount] = useState<TokenCount | null>(null);
  useEffect(() => {
    let live = true;
    const t = setTimeout(async () => {
      try {
        const c = await api<TokenCount>("/ui/tokens", { prompt: value });
        if (live) setCount(c);
      } catch { /* the counter is a hint; the next edit asks again */ }
    }, 250);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [value]);
  return (
    <div class="prompt">
      <textarea
        id={id}
        placeholder={placeholder}
        rows={rows}
        value={value}
        onInput={(e) => set(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (!(e.ctrlKey || e.metaKey) || (e.key !== "ArrowUp" && e.key !== "ArrowDown")) return;
          e.preventDefault();
          const el = e.currentTarget;
          const edit = editAttention(el.value, el.selectionStart, el.selectionEnd, e.key === "ArrowUp");
          // Edited in place, so the selection stays where the edit put it when the state catches up.
          el.value = edit.text;
          el.setSelectionRange(edit.start, edit.end);
          set(edit.text);
        }}
      />
      {count && (
        <span class={count.tokens > count.max ? "tokens over" : "tokens"} id={`${id}_token_counter`}>
          {count.tokens}/{count.max}
        </span>
      )}
    </div>
  );
}
