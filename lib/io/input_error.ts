// A problem with what the user asked for or gave (as opposed to a fault of the program): a bad field, a
// malformed or hostile file, a value over a limit. Every layer that checks input throws one (modules subclass
// it to name the kind of input), so each front end answers them all once by `instanceof` — 422 with the field
// in the API, exit code 2 with the message in the CLIs.

export class InputError extends Error {
  /** Where the bad value is, outermost first: ["width"], ["alwayson_scripts", "Aesthetic embeddings", "args"]. */
  readonly loc: (string | number)[];

  constructor(message: string, loc: string | (string | number)[] = []) {
    super(message);
    this.name = new.target.name;
    this.loc = typeof loc === "string" ? (loc ? [loc] : []) : loc;
  }
}

/** Something in an input is larger than this program accepts (text chunk, tensor, file). */
export class InputLimitError extends InputError {}
