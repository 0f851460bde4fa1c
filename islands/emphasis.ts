// Ctrl+↑/↓ in a prompt box, as A1111's edit-attention: the selection (or the word, or the "(text:w)" group at
// the cursor) gets its weight raised or lowered by 0.1; plain text is wrapped as "(text:1.1)", and a group
// that comes back to weight 1 loses its brackets.
export interface Edit {
  text: string;
  start: number;
  end: number;
}

const WORD_STOP = /[\s,.()[\]{}<>|:]/;
const GROUP = /\(([^()]*):(-?\d*\.?\d+)\)/g;

function format(w: number): string {
  return String(Number(w.toFixed(2)));
}

export function editAttention(text: string, start: number, end: number, up: boolean, delta = 0.1): Edit {
  if (start === end) {
    // The cursor inside a weighted group: the group's text.
    for (const m of text.matchAll(GROUP)) {
      const open = m.index!;
      if (start > open && start < open + m[0].length) {
        [start, end] = [open + 1, open + 1 + m[1].length];
        break;
      }
    }
    // Otherwise the word around the cursor.
    if (start === end) {
      while (start > 0 && !WORD_STOP.test(text[start - 1])) start--;
      while (end < text.length && !WORD_STOP.test(text[end])) end++;
      if (start === end) return { text, start, end };
    }
  }
  // A selection covering a whole "(text:w)" edits that group.
  const whole = /^\(([^()]*):(-?\d*\.?\d+)\)$/.exec(text.slice(start, end));
  if (whole) [start, end] = [start + 1, start + 1 + whole[1].length];
  const after = /^:(-?\d*\.?\d+)\)/.exec(text.slice(end));
  if (text[start - 1] === "(" && after) {
    const w = Number(after[1]) + (up ? delta : -delta);
    const inner = text.slice(start, end);
    if (Math.abs(w - 1) < 1e-9) {
      const out = text.slice(0, start - 1) + inner + text.slice(end + after[0].length);
      return { text: out, start: start - 1, end: end - 1 };
    }
    const out = text.slice(0, end) + `:${format(w)})` + text.slice(end + after[0].length);
    return { text: out, start, end };
  }
  const inner = text.slice(start, end);
  const out = text.slice(0, start) + `(${inner}:${format(1 + (up ? delta : -delta))})` + text.slice(end);
  return { text: out, start: start + 1, end: end + 1 };
}
