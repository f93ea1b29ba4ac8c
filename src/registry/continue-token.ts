/**
 * The opaque `continue` of a limited list (apiserver's storage continue key): the list's revision
 * and the last key returned, so the next page reads the same revision after that key. A token that
 * does not decode is a 400 in upstream's words.
 */
import { errors } from '../errors/index.ts';

/** Continue tokens carry the list's revision and the last key returned. */
export interface ContinueToken { v: 1; rv: number; start: string }

export function encodeContinue(t: ContinueToken): string {
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

export function decodeContinue(s: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(s, 'base64url').toString()) as ContinueToken;
    if (t.v === 1 && typeof t.rv === 'number' && typeof t.start === 'string') return t;
  } catch { /* fall through */ }
  throw errors.badRequest('continue key is not valid: invalid continue token');
}
