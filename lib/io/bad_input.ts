// The error for input that is malformed or over a limit (a hostile or broken file, a value out of range): the
// caller's input is at fault, not the program, so a front end answers it with 422 (API) or exit code 2 (CLI).
// Modules subclass it to name the kind of input; one mapping can then catch them all by `instanceof`.

export class BadInputError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Something in an input is larger than this program accepts (text chunk, tensor, file). */
export class InputLimitError extends BadInputError {}
