// Number fields that keep what is typed: the text is the input's own until Enter or leaving the field commits
// it; a value that is not a number, out of range or not a multiple of the step is marked (aria-invalid, with
// the reason as its title) and not committed. A cleared field commits `empty` when one is given (Seed: -1).
import { useEffect, useState } from "preact/hooks";

export interface NumberProps {
  value: number;
  set: (v: number) => void;
  min?: number;
  max?: number;
  /** A whole step (1, 8) makes the field accept only multiples of it from min. */
  step?: number;
  /** Committed for a cleared field. */
  empty?: number;
  id?: string;
  label?: string;
}

/** The number `text` means for these bounds, or why it is refused. */
export function parseNumber(
  text: string,
  { min, max, step, empty }: Pick<NumberProps, "min" | "max" | "step" | "empty">,
): { value: number } | { error: string } {
  const t = text.trim();
  if (t === "" && empty !== undefined) return { value: empty };
  const v = Number(t);
  if (t === "" || !Number.isFinite(v)) return { error: "not a number" };
  if (min !== undefined && v < min) return { error: `at least ${min}` };
  if (max !== undefined && v > max) return { error: `at most ${max}` };
  if (step !== undefined && Number.isInteger(step)) {
    if (!Number.isInteger(v)) return { error: "a whole number" };
    if (step > 1 && (v - (min ?? 0)) % step !== 0) return { error: `a multiple of ${step}` };
  }
  return { value: v };
}

export function NumberInput(props: NumberProps) {
  const { value, set, id, label } = props;
  const [text, setText] = useState(String(value));
  const [error, setError] = useState<string | null>(null);
  // A value set from outside (slider, paste, 🎲) replaces the text unless the text already means it.
  useEffect(() => {
    const parsed = parseNumber(text, props);
    if (!("value" in parsed) || parsed.value !== value) {
      setText(String(value));
      setError(null);
    }
  }, [value]);
  const commit = (t: string) => {
    const parsed = parseNumber(t, props);
    if ("error" in parsed) {
      setError(parsed.error);
      return;
    }
    setError(null);
    if (t.trim() === "") setText(String(parsed.value));
    if (parsed.value !== value) set(parsed.value);
  };
  return (
    <input
      type="text"
      inputMode="decimal"
      id={id}
      class={error ? "number invalid" : "number"}
      value={text}
      aria-invalid={error ? "true" : undefined}
      data-label={label}
      title={error ?? undefined}
      onInput={(e) => {
        setText(e.currentTarget.value);
        if (error) setError(null);
      }}
      onBlur={(e) => commit(e.currentTarget.value)}
      onKeyDown={(e) => {
        if (e.key === "Enter" && !e.ctrlKey && !e.metaKey) commit(e.currentTarget.value);
      }}
    />
  );
}

export function Slider(props: NumberProps & { min: number; max: number; step: number }) {
  const { value, set, min, max, step } = props;
  return (
    <span class="slider">
      <input
        type="range"
        value={value}
        min={min}
        max={max}
        step={step}
        aria-label={props.label}
        onInput={(e) => set(Number(e.currentTarget.value))}
      />
      <NumberInput {...props} />
    </span>
  );
}

/** Fields still holding a refused value inside `root`, as "Label: reason". */
export function invalidFields(root: ParentNode): string[] {
  return Array.from(root.querySelectorAll<HTMLInputElement>("input[aria-invalid=true]")).map((el) =>
    `${el.dataset.label ?? el.id}: ${el.title}`
  );
}
