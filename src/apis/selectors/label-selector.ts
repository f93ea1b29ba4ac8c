/**
 * Label selectors, parsed from their string form (`?labelSelector=`) as
 * k8s.io/apimachinery/pkg/labels/selector.go does: equality (`k=v`, `k==v`, `k!=v`), set-based
 * (`k in (a,b)`, `k notin (a,b)`), existence (`k`, `!k`) and the numeric `k>1` / `k<1`,
 * comma-separated (AND), whitespace between tokens ignored.
 */
import { isQualifiedName, isValidLabelValue } from '../names.ts';
import { SelectorError } from './selector-error.ts';

/** Operators as Kubernetes' selection.Operator spells them. */
export type LabelOperator = '=' | '==' | '!=' | 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  /** Sorted and de-duplicated for `in`/`notin`; one value for equality and gt/lt; none for existence. */
  values: string[];
}

/** A parsed selector: the AND of its requirements. */
export class LabelSelector {
  /** Requirements sorted by key (stable), as Kubernetes keeps them. */
  readonly requirements: readonly LabelRequirement[];
  /** True for the selector that matches nothing (a null metav1.LabelSelector). */
  readonly nothing: boolean;

  constructor(requirements: LabelRequirement[], nothing = false) {
    this.requirements = [...requirements].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    this.nothing = nothing;
  }

  /** Matches every object. */
  static everything(): LabelSelector {
    return new LabelSelector([]);
  }

  /** Matches no object (what a null selector means in Kubernetes). */
  static nothing(): LabelSelector {
    return new LabelSelector([], true);
  }

  /** True when the selector has no requirement and so matches everything. */
  get empty(): boolean {
    return !this.nothing && this.requirements.length === 0;
  }

  /** Whether a label set satisfies every requirement. Missing labels count as an empty set. */
  matches(labels: Record<string, string> | undefined): boolean {
    if (this.nothing) return false;
    const set = labels ?? {};
    return this.requirements.every((r) => requirementMatches(r, set));
  }

  /** Canonical string form, e.g. `app=web,tier in (a,b)`; '' for everything and nothing. */
  toString(): string {
    return this.requirements.map(requirementToString).join(',');
  }
}

function requirementMatches(r: LabelRequirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const value = has ? labels[r.key] : undefined;
  switch (r.operator) {
    case '=':
    case '==':
    case 'in':
      return has && r.values.includes(value!);
    case '!=':
    case 'notin':
      // A missing key satisfies a negative requirement, as in Kubernetes.
      return !has || !r.values.includes(value!);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      if (!has || !INTEGER.test(value!)) return false;
      const a = BigInt(value!);
      const b = BigInt(r.values[0]);
      return r.operator === 'gt' ? a > b : a < b;
    }
  }
}

/** One requirement in string form (`!k`, `k`, `k=v`, `k in (a,b)`, `k>3`). */
export function requirementToString(r: LabelRequirement): string {
  switch (r.operator) {
    case '!': return `!${r.key}`;
    case 'exists': return r.key;
    case 'in': return `${r.key} in (${r.values.join(',')})`;
    case 'notin': return `${r.key} notin (${r.values.join(',')})`;
    case 'gt': return `${r.key}>${r.values[0]}`;
    case 'lt': return `${r.key}<${r.values[0]}`;
    default: return `${r.key}${r.operator}${r.values[0]}`;
  }
}

const INTEGER = /^[+-]?\d+$/;

/**
 * Builds a validated requirement, as Kubernetes' labels.NewRequirement: the key must be a qualified
 * name, every value a valid label value, and the number of values must suit the operator.
 * Throws SelectorError (message without the `unable to parse requirement: ` prefix).
 */
export function newRequirement(key: string, operator: LabelOperator, values: string[]): LabelRequirement {
  const errs: string[] = [];
  const keyErrs = isQualifiedName(key);
  if (keyErrs.length) errs.push(`key: Invalid value: ${JSON.stringify(key)}: ${keyErrs.join(', ')}`);
  const shown = JSON.stringify(values);
  switch (operator) {
    case 'in':
    case 'notin':
      if (values.length === 0) errs.push(`values: Invalid value: ${shown}: for 'in', 'notin' operators, values set can't be empty`);
      values = [...new Set(values)].sort();
      break;
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) errs.push(`values: Invalid value: ${shown}: exact-match compatibility requires one single value`);
      break;
    case 'exists':
    case '!':
      if (values.length !== 0) errs.push(`values: Invalid value: ${shown}: values set must be empty for exists and does not exist`);
      break;
    case 'gt':
    case 'lt':
      if (values.length !== 1) errs.push(`values: Invalid value: ${shown}: for 'Gt', 'Lt' operators, exactly one value is required`);
      values.forEach((v, i) => {
        if (!INTEGER.test(v)) errs.push(`values[${i}]: Invalid value: ${JSON.stringify(v)}: for 'Gt', 'Lt' operators, the value must be an integer`);
      });
      break;
  }
  values.forEach((v, i) => {
    const vErrs = isValidLabelValue(v);
    if (vErrs.length) errs.push(`values[${i}]: Invalid value: ${JSON.stringify(v)}: ${vErrs.join(', ')}`);
  });
  if (errs.length === 1) throw new SelectorError(errs[0]);
  if (errs.length > 1) throw new SelectorError(`[${errs.join(', ')}]`);
  return { key, operator, values };
}

// ---- lexer ----

type Tok =
  | 'id' | 'end' | 'error' | '(' | ')' | ',' | '!' | '!=' | '=' | '==' | '>' | '<' | 'in' | 'notin';

interface Item { tok: Tok; lit: string }

const SPECIAL = new Set(['=', '!', '(', ')', ',', '>', '<']);
const SYMBOLS: Record<string, Tok> = {
  ')': ')', ',': ',', '!': '!', '!=': '!=', '(': '(', '=': '=', '==': '==', '>': '>', '<': '<',
};
const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';

function lex(s: string): Item[] {
  const items: Item[] = [];
  let i = 0;
  for (;;) {
    while (i < s.length && isSpace(s[i])) i++;
    if (i >= s.length) {
      items.push({ tok: 'end', lit: '' });
      return items;
    }
    if (SPECIAL.has(s[i])) {
      // Longest match among the symbol tokens (`!=` before `!`, `==` before `=`).
      const two = s.slice(i, i + 2);
      if (SYMBOLS[two]) {
        items.push({ tok: SYMBOLS[two], lit: two });
        i += 2;
      } else if (SYMBOLS[s[i]]) {
        items.push({ tok: SYMBOLS[s[i]], lit: s[i] });
        i += 1;
      } else {
        items.push({ tok: 'error', lit: `error expected: keyword found '${s[i]}'` });
        i += 1;
      }
      continue;
    }
    let j = i;
    while (j < s.length && !isSpace(s[j]) && !SPECIAL.has(s[j])) j++;
    const word = s.slice(i, j);
    i = j;
    items.push({ tok: word === 'in' ? 'in' : word === 'notin' ? 'notin' : 'id', lit: word });
  }
}

// ---- parser ----

/** In a value position the keywords `in` / `notin` are plain identifiers. */
type Ctx = 'key' | 'values';

class Parser {
  private pos = 0;
  constructor(private readonly items: Item[]) {}

  private tokenAt(i: number, ctx: Ctx): Item {
    const it = this.items[Math.min(i, this.items.length - 1)];
    if (ctx === 'values' && (it.tok === 'in' || it.tok === 'notin')) return { tok: 'id', lit: it.lit };
    return it;
  }
  peek(ctx: Ctx): Item {
    return this.tokenAt(this.pos, ctx);
  }
  next(ctx: Ctx): Item {
    const it = this.tokenAt(this.pos, ctx);
    this.pos++;
    return it;
  }

  parse(): LabelRequirement[] {
    const reqs: LabelRequirement[] = [];
    for (;;) {
      const { tok, lit } = this.peek('values');
      if (tok === 'end') return reqs;
      if (tok !== 'id' && tok !== '!') {
        throw new SelectorError(`found '${lit}', expected: !, identifier, or 'end of string'`);
      }
      reqs.push(this.requirement());
      const after = this.next('values');
      if (after.tok === 'end') return reqs;
      if (after.tok !== ',') throw new SelectorError(`found '${after.lit}', expected: ',' or 'end of string'`);
      const following = this.peek('values');
      if (following.tok !== 'id' && following.tok !== '!') {
        throw new SelectorError(`found '${following.lit}', expected: identifier after ','`);
      }
    }
  }

  private requirement(): LabelRequirement {
    try {
      let operator: LabelOperator | undefined;
      let t = this.next('values');
      if (t.tok === '!') {
        operator = '!';
        t = this.next('values');
      }
      if (t.tok !== 'id') throw new SelectorError(`found '${t.lit}', expected: identifier`);
      const key = t.lit;
      const keyErrs = isQualifiedName(key);
      if (keyErrs.length) throw new SelectorError(`Invalid value: ${JSON.stringify(key)}: ${keyErrs.join(', ')}`);
      const ahead = this.peek('values').tok;
      if (operator === '!') return newRequirement(key, '!', []);
      if (ahead === 'end' || ahead === ',') return newRequirement(key, 'exists', []);
      operator = this.operator();
      const values = operator === 'in' || operator === 'notin' ? this.setValues() : this.exactValue();
      return newRequirement(key, operator, values);
    } catch (e) {
      if (e instanceof SelectorError) throw new SelectorError(`unable to parse requirement: ${e.message}`);
      throw e;
    }
  }

  private operator(): LabelOperator {
    const { tok, lit } = this.next('key');
    switch (tok) {
      case 'in': return 'in';
      case 'notin': return 'notin';
      case '=': return '=';
      case '==': return '==';
      case '!=': return '!=';
      case '>': return 'gt';
      case '<': return 'lt';
      default:
        throw new SelectorError(`found '${lit}', expected: in, notin, =, ==, !=, gt, lt`);
    }
  }

  private exactValue(): string[] {
    const ahead = this.peek('values');
    // `k=` selects the empty value.
    if (ahead.tok === 'end' || ahead.tok === ',') return [''];
    const t = this.next('values');
    if (t.tok === 'id') return [t.lit];
    throw new SelectorError(`found '${t.lit}', expected: identifier`);
  }

  private setValues(): string[] {
    const open = this.next('values');
    if (open.tok !== '(') throw new SelectorError(`found '${open.lit}', expected:'('`);
    const first = this.peek('values');
    if (first.tok === ')') {
      this.next('values');
      return [''];
    }
    if (first.tok !== 'id' && first.tok !== ',') {
      throw new SelectorError(`found '${first.lit}', expected: ',', ')' or identifier`);
    }
    const values = this.identifierList();
    const close = this.next('values');
    if (close.tok !== ')') throw new SelectorError(`found '${close.lit}', expected: ')'`);
    return values;
  }

  /** `a,b` up to (not including) `)`; empty slots such as `(,a)` or `(a,)` add the empty value. */
  private identifierList(): string[] {
    const values: string[] = [];
    for (;;) {
      const t = this.next('values');
      if (t.tok === 'id') {
        values.push(t.lit);
        const sep = this.peek('values');
        if (sep.tok === ',') continue;
        if (sep.tok === ')') return values;
        throw new SelectorError(`found '${sep.lit}', expected: ',' or ')'`);
      }
      if (t.tok !== ',') throw new SelectorError(`found '${t.lit}', expected: ',', or identifier`);
      if (values.length === 0) values.push('');
      const ahead = this.peek('values');
      if (ahead.tok === ')') {
        values.push('');
        return values;
      }
      if (ahead.tok === ',') {
        this.next('values');
        values.push('');
      }
    }
  }
}

/**
 * Parses a label selector string. '' (or only whitespace) yields the selector that matches
 * everything. Throws SelectorError with a Kubernetes-like message on bad syntax or invalid
 * keys/values.
 */
export function parseLabelSelector(s: string): LabelSelector {
  const items = lex(s);
  const bad = items.find((i) => i.tok === 'error');
  // Kubernetes reports a lexer error as a token literal in whatever position it appears; reporting
  // it up front keeps the message clear.
  if (bad) throw new SelectorError(`unable to parse requirement: ${bad.lit}`);
  return new LabelSelector(new Parser(items).parse());
}
