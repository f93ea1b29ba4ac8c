/**
 * The error thrown for a malformed label or field selector. The API layer turns it into a
 * 400 BadRequest whose message is `err.message`, worded like Kubernetes' own parser errors.
 */
export class SelectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SelectorError';
  }
}
