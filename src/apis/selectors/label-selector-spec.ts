/**
 * metav1.LabelSelector (`{matchLabels, matchExpressions}`, as in a Deployment's `spec.selector`)
 * turned into a LabelSelector, following metav1.LabelSelectorAsSelector:
 *
 * - a null / absent selector (`undefined` or `null`) matches NOTHING;
 * - an empty selector (`{}`, or both lists empty) matches EVERYTHING.
 *
 * Controllers that treat "no selector" differently (e.g. a Service without selector) must decide
 * before calling.
 */
import { LabelSelector, newRequirement, type LabelOperator, type LabelRequirement } from './label-selector.ts';
import { SelectorError } from './selector-error.ts';

/** The JSON shape of metav1.LabelSelectorRequirement. */
export interface LabelSelectorRequirementSpec {
  key: string;
  operator: string;
  values?: string[] | null;
}

/** The JSON shape of metav1.LabelSelector. */
export interface LabelSelectorSpec {
  matchLabels?: Record<string, string> | null;
  matchExpressions?: LabelSelectorRequirementSpec[] | null;
}

const OPERATORS: Record<string, LabelOperator> = {
  In: 'in',
  NotIn: 'notin',
  Exists: 'exists',
  DoesNotExist: '!',
};

/**
 * Converts a metav1.LabelSelector. `null`/`undefined` → matches nothing; `{}` → matches everything.
 * Throws SelectorError for an unknown operator or an invalid key/value.
 */
export function fromLabelSelectorSpec(spec: LabelSelectorSpec | undefined | null): LabelSelector {
  if (spec === undefined || spec === null) return LabelSelector.nothing();
  const reqs: LabelRequirement[] = [];
  for (const [k, v] of Object.entries(spec.matchLabels ?? {})) {
    reqs.push(newRequirement(k, '=', [v]));
  }
  for (const expr of spec.matchExpressions ?? []) {
    const op = OPERATORS[expr.operator];
    if (!op) throw new SelectorError(`${JSON.stringify(expr.operator)} is not a valid label selector operator`);
    reqs.push(newRequirement(expr.key, op, [...(expr.values ?? [])]));
  }
  return new LabelSelector(reqs);
}

/**
 * The string form of a metav1.LabelSelector, as shown in a Scale's `status.selector` and the
 * SELECTOR column: `app=web,tier in (a,b)`. '' for both null and empty selectors.
 * Throws SelectorError when the selector is invalid.
 */
export function labelSelectorToString(spec: LabelSelectorSpec | undefined | null): string {
  return fromLabelSelectorSpec(spec).toString();
}

/**
 * metav1.FormatLabelSelector: the string form, `<none>` when it is empty, `<error>` when invalid.
 * Used by `kubectl get -o wide` SELECTOR columns.
 */
export function formatLabelSelector(spec: LabelSelectorSpec | undefined | null): string {
  try {
    const s = labelSelectorToString(spec);
    return s === '' ? '<none>' : s;
  } catch {
    return '<error>';
  }
}

/**
 * Whether `labels` satisfy `sel`, as LabelSelectorAsSelector(...).Matches. A nil selector matches
 * nothing; an empty one matches everything; an unknown operator matches nothing.
 */
export function selectorMatches(sel: LabelSelectorSpec | undefined | null, labels: Record<string, string> | undefined): boolean {
  if (!sel) return false;
  const set = labels ?? {};
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) {
    if (set[k] !== v) return false;
  }
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(set, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In': if (!has || !values.includes(set[e.key])) return false; break;
      case 'NotIn': if (has && values.includes(set[e.key])) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: return false;
    }
  }
  return true;
}
