/**
 * core/v1 NodeSelector matching (component-helpers nodeaffinity): terms are ORed, a term's
 * matchExpressions (node labels) and matchFields (only `metadata.name`) are ANDed; an empty term
 * matches nothing. Operators: In, NotIn, Exists, DoesNotExist, Gt, Lt.
 */

/** metav1-style requirement inside a NodeSelectorTerm. */
export interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

/** One ORed term of a NodeSelector. */
export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[] | null;
  matchFields?: NodeSelectorRequirement[] | null;
}

/** What a node offers to a selector: its name and labels. */
export interface SelectableNode {
  name: string;
  labels: Record<string, string>;
}

function requirementMatches(r: NodeSelectorRequirement, value: string | undefined): boolean {
  const has = value !== undefined;
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In': return has && values.includes(value);
    case 'NotIn': return !has || !values.includes(value);
    case 'Exists': return has;
    case 'DoesNotExist': return !has;
    case 'Gt':
    case 'Lt': {
      if (!has || values.length !== 1) return false;
      const a = Number.parseInt(value, 10);
      const b = Number.parseInt(values[0], 10);
      if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
      return r.operator === 'Gt' ? a > b : a < b;
    }
    default: return false;
  }
}

/** Whether one term matches the node; a term without any requirement matches nothing. */
export function termMatches(term: NodeSelectorTerm, node: SelectableNode): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  for (const r of exprs) if (!requirementMatches(r, node.labels[r.key])) return false;
  for (const r of fields) {
    if (r.key !== 'metadata.name') return false;
    if (!requirementMatches(r, node.name)) return false;
  }
  return true;
}

/** Whether any term matches (a NodeSelector's `nodeSelectorTerms`); an empty list matches nothing. */
export function termsMatch(terms: readonly NodeSelectorTerm[], node: SelectableNode): boolean {
  for (const t of terms) if (termMatches(t, node)) return true;
  return false;
}
