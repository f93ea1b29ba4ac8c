/**
 * `labelSelector` + `fieldSelector` of a list or watch, compiled once into a predicate over objects.
 * metadata.name and metadata.namespace work for every kind; a kind's strategy adds its own fields.
 */
import type { KubeObject } from '../apis/object.ts';
import { errors } from '../errors/index.ts';
import { parseLabelSelector, type LabelSelector } from '../apis/selectors/label-selector.ts';
import { parseFieldSelector, type FieldSelector } from '../apis/selectors/field-selector.ts';
import type { FieldGetter, ResourceType } from './types.ts';

export interface ObjectFilter {
  matches(obj: KubeObject): boolean;
  /** The exact name a field selector demands (`metadata.name=x`), for narrowing reads. */
  readonly name?: string;
}

const GENERIC: Record<string, FieldGetter> = {
  'metadata.name': (o) => o.metadata?.name,
  'metadata.namespace': (o) => o.metadata?.namespace,
};

/** Builds the filter, or undefined when neither selector restricts anything. Throws 400 on bad syntax. */
export function makeFilter(type: ResourceType, labelSelector?: string, fieldSelector?: string): ObjectFilter | undefined {
  let labels: LabelSelector | undefined;
  let fields: FieldSelector | undefined;
  try {
    if (labelSelector) labels = parseLabelSelector(labelSelector);
    if (fieldSelector) fields = parseFieldSelector(fieldSelector);
  } catch (err) {
    throw errors.badRequest((err as Error).message);
  }
  if (labels?.empty) labels = undefined;
  const getters: Record<string, FieldGetter> = { ...GENERIC, ...(type.strategy.fieldSelectors ?? {}) };
  if (fields) {
    for (const r of fields.requirements) {
      if (!getters[r.field]) {
        const known = Object.keys(getters).map((k) => `"${k}"`).join(', ');
        throw errors.badRequest(`field label not supported: ${r.field} (supported: ${known})`);
      }
    }
    if (fields.requirements.length === 0) fields = undefined;
  }
  if (!labels && !fields) return undefined;
  return {
    name: fields?.field('metadata.name'),
    matches(obj: KubeObject): boolean {
      if (labels && !labels.matches(obj.metadata?.labels ?? {})) return false;
      if (fields && !fields.matches((f) => getters[f]?.(obj))) return false;
      return true;
    },
  };
}
