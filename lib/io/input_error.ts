// A problem with what the user asked for (as opposed to a fault of the program): every layer that checks
// input throws one, naming the field, so each front end can answer it once — 422 with the field in the API,
// exit code 2 with the message in the CLIs.

export class InputError extends Error {
  /** Where the bad value is, outermost first: ["width"], ["alwayson_scripts", "Aesthetic embeddings", "args"]. */
  readonly loc: (string | number)[];

  constructor(message: string, loc: string | (string | number)[] = []) {
    super(message);
    this.name = "InputError";
    this.loc = typeof loc === "string" ? (loc ? [loc] : []) : loc;
  }
}
