/**
 * DeleteOptions from a body (kubectl sends one with DELETE; an Eviction carries one) and the query
 * string, in one place for delete, deletecollection and eviction: typed as metav1.DeleteOptions
 * (400 on wrong types), `dryRun` only `All`, and a dry run asked for anywhere is a dry run.
 */
import { errors } from '../../errors/index.ts';
import type { DeleteOptions } from '../../registry/store-delete.ts';
import { validateTypes } from '../openapi/type-validation.ts';
import { intParam, isDryRun } from './context.ts';

const POLICIES = ['Orphan', 'Background', 'Foreground'];

/** `body` is a decoded DeleteOptions object (or undefined); `query` adds to and overrides it. */
export function deleteOptionsFrom(body: Record<string, unknown> | undefined | null, query: URLSearchParams): DeleteOptions {
  const b = body ?? {};
  const typeErrs = validateTypes('v1', 'DeleteOptions', b);
  if (typeErrs.length) {
    throw errors.badRequest(`DeleteOptions in version "v1" cannot be handled as a DeleteOptions: ${typeErrs.map((e) => `${e.field}: ${e.message}`).join(', ')}`,
      typeErrs.map((e) => ({ reason: 'FieldValueTypeInvalid', message: e.message, field: e.field })));
  }
  const dryRun = (b.dryRun ?? []) as unknown[];
  const bad = dryRun.find((v) => v !== 'All');
  if (bad !== undefined) {
    throw errors.invalid('meta.k8s.io', 'DeleteOptions', '', [{ type: 'FieldValueNotSupported', field: 'dryRun', message: `Unsupported value: ${JSON.stringify(bad)}: supported values: "All"` }]);
  }
  const opts: DeleteOptions = {
    gracePeriodSeconds: (b.gracePeriodSeconds ?? undefined) as number | undefined,
    propagationPolicy: (b.propagationPolicy ?? undefined) as DeleteOptions['propagationPolicy'],
    orphanDependents: (b.orphanDependents ?? undefined) as boolean | undefined,
    preconditions: (b.preconditions ?? undefined) as DeleteOptions['preconditions'],
    dryRun: dryRun.length > 0,
  };
  const grace = intParam(query, 'gracePeriodSeconds');
  if (grace !== undefined) opts.gracePeriodSeconds = grace;
  const policy = query.get('propagationPolicy');
  if (policy) opts.propagationPolicy = policy as DeleteOptions['propagationPolicy'];
  const orphan = query.get('orphanDependents');
  if (orphan) opts.orphanDependents = orphan === 'true';
  if (isDryRun(query)) opts.dryRun = true;
  if (opts.propagationPolicy !== undefined && !POLICIES.includes(opts.propagationPolicy)) {
    throw errors.invalid('meta.k8s.io', 'DeleteOptions', '', [{ type: 'FieldValueNotSupported', field: 'propagationPolicy', message: `Unsupported value: "${opts.propagationPolicy}": supported values: "Foreground", "Background", "Orphan", "nil"` }]);
  }
  return opts;
}
