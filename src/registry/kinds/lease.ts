/**
 * Lease strategy (coordination.k8s.io/v1), per pkg/apis/coordination/validation: positive
 * duration, non-negative transitions, preferredHolder only with a strategy.
 */
import type { KubeObject } from '../../apis/object.ts';
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import type { Strategy } from '../types.ts';
import { isQualifiedName } from '../../apis/names.ts';

const LEASE_STRATEGIES = ['OldestEmulationVersion'];

function validateLeaseSpec(obj: KubeObject): FieldError[] {
  const spec = obj.spec ?? {};
  const errs: FieldError[] = [];
  const dur = spec.leaseDurationSeconds;
  if (dur !== undefined && dur !== null && !(typeof dur === 'number' && dur > 0)) {
    errs.push(fieldError.invalid('spec.leaseDurationSeconds', dur, 'must be greater than 0'));
  }
  const tr = spec.leaseTransitions;
  if (tr !== undefined && tr !== null && !(typeof tr === 'number' && tr >= 0)) {
    errs.push(fieldError.invalid('spec.leaseTransitions', tr, 'must be greater than or equal to 0'));
  }
  if (spec.strategy) {
    const s = String(spec.strategy);
    if (!s.includes('/')) {
      if (!LEASE_STRATEGIES.includes(s)) errs.push(fieldError.notSupported('spec.strategy', s, LEASE_STRATEGIES));
    } else {
      for (const msg of isQualifiedName(s)) errs.push(fieldError.invalid('spec.strategy', s, msg));
    }
  }
  if (spec.preferredHolder && !spec.strategy) {
    errs.push(fieldError.forbidden('spec.preferredHolder', 'may only be specified if `strategy` is defined'));
  }
  return errs;
}

export const leaseStrategy: Strategy = {
  validate: validateLeaseSpec,
  validateUpdate: validateLeaseSpec,
};
