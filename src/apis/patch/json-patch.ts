/**
 * RFC 6902 JSON Patch (`application/json-patch+json`): add, remove, replace, move, copy, test, with
 * RFC 6901 pointers (`~0` = `~`, `~1` = `/`, `-` = past the end of an array). The original is not
 * modified; on any failing operation nothing is applied.
 */
import { clone, isObject } from '../object.ts';
import { PatchError } from './patch-error.ts';

/** One JSON Patch operation. */
export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: unknown;
}

/** Splits an RFC 6901 pointer into unescaped tokens. */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(`invalid JSON pointer "${pointer}": must start with "/"`, 400);
  return pointer.slice(1).split('/').map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function arrayIndex(arr: unknown[], token: string, pointer: string, allowEnd: boolean): number {
  if (allowEnd && token === '-') return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new PatchError(`invalid array index "${token}" in path "${pointer}"`);
  const i = Number(token);
  if (i > arr.length || (!allowEnd && i === arr.length)) throw new PatchError(`array index ${i} out of bounds in path "${pointer}"`);
  return i;
}

/** Parent container and last token of `pointer`; throws when the parent does not exist. */
function parentOf(doc: unknown, pointer: string): { parent: unknown; key: string } {
  const tokens = parsePointer(pointer);
  if (!tokens.length) throw new PatchError(`path "${pointer}" targets the whole document`);
  let cur: unknown = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(cur, t, pointer, false)];
    else if (isObject(cur) && Object.hasOwn(cur, t)) cur = cur[t];
    else throw new PatchError(`doc is missing path: "${pointer}"`);
  }
  if (!Array.isArray(cur) && !isObject(cur)) throw new PatchError(`doc is missing path: "${pointer}"`);
  return { parent: cur, key: tokens[tokens.length - 1] };
}

function get(doc: unknown, pointer: string): unknown {
  let cur: unknown = doc;
  for (const t of parsePointer(pointer)) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(cur, t, pointer, false)];
    else if (isObject(cur) && Object.hasOwn(cur, t)) cur = cur[t];
    else throw new PatchError(`doc is missing path: "${pointer}"`);
  }
  return cur;
}

function add(doc: unknown, pointer: string, value: unknown): unknown {
  if (pointer === '') return value;
  const { parent, key } = parentOf(doc, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, pointer, true), 0, value);
  else (parent as Record<string, unknown>)[key] = value;
  return doc;
}

function remove(doc: unknown, pointer: string): unknown {
  const { parent, key } = parentOf(doc, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, pointer, false), 1);
  else if (Object.hasOwn(parent as object, key)) delete (parent as Record<string, unknown>)[key];
  else throw new PatchError(`unable to remove nonexistent key: ${key}: missing value`);
  return doc;
}

function replace(doc: unknown, pointer: string, value: unknown): unknown {
  if (pointer === '') return value;
  const { parent, key } = parentOf(doc, pointer);
  if (Array.isArray(parent)) parent[arrayIndex(parent, key, pointer, false)] = value;
  else if (Object.hasOwn(parent as object, key)) (parent as Record<string, unknown>)[key] = value;
  else throw new PatchError(`doc is missing key: ${pointer}: missing value`);
  return doc;
}

/** Deep JSON equality (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

function checkOperation(op: unknown, i: number): JsonPatchOperation {
  if (!isObject(op)) throw new PatchError(`operation ${i} is not an object`, 400);
  if (typeof op.op !== 'string') throw new PatchError(`operation ${i} has no "op"`, 400);
  if (typeof op.path !== 'string') throw new PatchError(`operation ${i} (${op.op}) has no "path"`, 400);
  if (['add', 'replace', 'test'].includes(op.op) && !Object.hasOwn(op, 'value')) throw new PatchError(`operation ${i} (${op.op}) has no "value"`, 400);
  if (['move', 'copy'].includes(op.op) && typeof op.from !== 'string') throw new PatchError(`operation ${i} (${op.op}) has no "from"`, 400);
  if (!['add', 'remove', 'replace', 'move', 'copy', 'test'].includes(op.op)) throw new PatchError(`unexpected kind of operation: "${op.op}"`, 400);
  return op as unknown as JsonPatchOperation;
}

/**
 * Applies a JSON Patch document (an array of operations) to a copy of `original` and returns it.
 * Throws PatchError (400 for a malformed patch, 422 when an operation cannot be applied).
 */
export function applyJsonPatch<T = unknown>(original: T, patch: unknown): T {
  if (!Array.isArray(patch)) throw new PatchError('json patch must be an array of operations', 400);
  const ops = patch.map(checkOperation);
  let doc: unknown = clone(original);
  for (const op of ops) {
    switch (op.op) {
      case 'add': doc = add(doc, op.path, clone(op.value)); break;
      case 'remove': doc = remove(doc, op.path); break;
      case 'replace': doc = replace(doc, op.path, clone(op.value)); break;
      case 'move': {
        if (op.path !== op.from && op.path.startsWith(op.from! + '/')) throw new PatchError(`cannot move "${op.from}" into its own child "${op.path}"`);
        const value = get(doc, op.from!);
        doc = add(remove(doc, op.from!), op.path, value);
        break;
      }
      case 'copy': doc = add(doc, op.path, clone(get(doc, op.from!))); break;
      case 'test':
        if (!jsonEqual(get(doc, op.path), op.value)) throw new PatchError(`testing value ${op.path} failed: test failed`);
        break;
    }
  }
  return doc as T;
}
