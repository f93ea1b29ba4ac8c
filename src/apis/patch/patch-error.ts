/**
 * The error every patch function throws. `code` suggests the HTTP status: 400 for a malformed patch
 * document, 422 when a well-formed patch cannot be applied (missing path, failed `test`), 415 for an
 * unsupported patch type. The API layer turns it into a Status.
 */
export class PatchError extends Error {
  readonly code: 400 | 415 | 422;

  constructor(message: string, code: 400 | 415 | 422 = 422) {
    super(message);
    this.name = 'PatchError';
    this.code = code;
  }
}
