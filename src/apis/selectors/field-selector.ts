/**
 * Field selectors (`?fieldSelector=`), parsed as k8s.io/apimachinery/pkg/fields/selector.go does:
 * comma-separated terms `f=v`, `f==v`, `f!=v`; in values `\,` `\=` `\\` escape the special
 * characters, any other backslash sequence or a bare `,`/`=` is an error.
 * Which fields a kind supports is the caller's business (per-kind FieldGetter tables).
 */
import { SelectorError } from './selector-error.ts';

export type FieldOperator = '=' | '==' | '!=';

export interface FieldRequirement {
  field: string;
  op: FieldOperator;
  /** Unescaped value. */
  value: string;
}

/** A parsed field selector: the AND of its requirements. */
export class FieldSelector {
  readonly requirements: readonly FieldRequirement[];

  constructor(requirements: FieldRequirement[]) {
    this.requirements = requirements;
  }

  /** True when there is no requirement (matches everything). */
  get empty(): boolean {
    return this.requirements.length === 0;
  }

  /** Whether an object satisfies every term; `get` returning `undefined` counts as "". */
  matches(get: (field: string) => string | undefined): boolean {
    return this.requirements.every((r) => {
      const v = get(r.field) ?? '';
      return r.op === '!=' ? v !== r.value : v === r.value;
    });
  }

  /**
   * The exact value this selector requires for `name` (from an `=`/`==` term), if any — e.g.
   * `metadata.name` to narrow a watch to one object.
   */
  field(name: string): string | undefined {
    return this.requirements.find((r) => r.field === name && r.op !== '!=')?.value;
  }

  /** Field names used, for the caller's "field label not supported" check. */
  fields(): string[] {
    return [...new Set(this.requirements.map((r) => r.field))];
  }

  /** String form with values re-escaped, terms in parse order. */
  toString(): string {
    return this.requirements.map((r) => `${r.field}${r.op}${escapeFieldValue(r.value)}`).join(',');
  }
}

/** Escapes `\`, `,` and `=` in a field selector value. */
export function escapeFieldValue(v: string): string {
  return v.replace(/[\\,=]/g, (c) => `\\${c}`);
}

/** Splits on commas that are not escaped by a backslash. */
function splitTerms(s: string): string[] {
  const terms: string[] = [];
  let start = 0;
  let escaped = false;
  for (let i = 0; i < s.length; i++) {
    if (escaped) escaped = false;
    else if (s[i] === '\\') escaped = true;
    else if (s[i] === ',') {
      terms.push(s.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(s.slice(start));
  return terms;
}

const OPS: FieldOperator[] = ['!=', '==', '='];

/** Finds the first unescaped operator; `!=` and `==` win over `=` at the same position. */
function splitTerm(term: string): [string, FieldOperator, string] | undefined {
  let escaped = false;
  for (let i = 0; i < term.length; i++) {
    if (escaped) {
      escaped = false;
      continue;
    }
    if (term[i] === '\\') {
      escaped = true;
      continue;
    }
    for (const op of OPS) {
      if (term.startsWith(op, i)) return [term.slice(0, i), op, term.slice(i + op.length)];
    }
  }
  return undefined;
}

function unescapeValue(v: string): string {
  let out = '';
  let inSlash = false;
  for (const c of v) {
    if (inSlash) {
      if (c !== '\\' && c !== ',' && c !== '=') {
        throw new SelectorError(`invalid field selector: invalid escape sequence: \\${c}`);
      }
      out += c;
      inSlash = false;
    } else if (c === '\\') inSlash = true;
    else if (c === ',' || c === '=') {
      throw new SelectorError(`invalid field selector: unescaped character in value: ${c}`);
    } else out += c;
  }
  if (inSlash) throw new SelectorError('invalid field selector: invalid escape sequence: \\');
  return out;
}

/**
 * Parses a field selector. '' yields the empty selector (matches everything); empty terms are
 * skipped. Field names are trimmed of surrounding whitespace; values are kept verbatim.
 * Throws SelectorError (`invalid selector: '…'; can't understand '…'`) on a term without operator.
 */
export function parseFieldSelector(s: string): FieldSelector {
  const reqs: FieldRequirement[] = [];
  for (const term of splitTerms(s)) {
    if (term.trim() === '') continue;
    const parts = splitTerm(term);
    if (!parts || parts[0].trim() === '') {
      throw new SelectorError(`invalid selector: '${s}'; can't understand '${term}'`);
    }
    const [field, op, raw] = parts;
    reqs.push({ field: field.trim(), op, value: unescapeValue(raw) });
  }
  return new FieldSelector(reqs);
}
