/**
 * events.k8s.io/v1 Event strategy, after ValidateEventCreate/Update for the new API: eventTime,
 * reportingController, reportingInstance, action and reason are required, type is Normal|Warning,
 * the deprecated* fields must stay unset, and most fields are immutable after creation.
 * Field paths use the events.k8s.io/v1 names (`regarding`, `note`).
 */
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../../apis/object.ts';
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import type { Strategy } from '../types.ts';
import { isDNS1123Subdomain } from '../../apis/names.ts';
import { EVENT_TYPES, validateReportedEvent } from './event.ts';

function validateSeries(obj: KubeObject): FieldError[] {
  const s = obj.series;
  if (!s) return [];
  const errs: FieldError[] = [];
  if (!(typeof s.count === 'number' && s.count >= 2)) {
    errs.push(fieldError.invalid('series.count', '', 'should be at least 2'));
  }
  if (!s.lastObservedTime) errs.push(fieldError.required('series.lastObservedTime'));
  return errs;
}

function validateEventV1(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const ns = obj.metadata?.namespace ?? '';
  const regardingNs = obj.regarding?.namespace ?? '';
  if (!regardingNs && ns !== 'default' && ns !== 'kube-system') {
    errs.push(fieldError.invalid('regarding.namespace', regardingNs, 'does not match event.namespace'));
  }
  errs.push(...validateReportedEvent({
    reportingController: obj.reportingController, reportingInstance: obj.reportingInstance,
    action: obj.action, reason: obj.reason, message: obj.note,
  }, { involvedObject: 'regarding', reportingController: 'reportingController', message: 'note' }));
  for (const msg of isDNS1123Subdomain(ns)) errs.push(fieldError.invalid('metadata.namespace', ns, msg));
  errs.push(...validateSeries(obj));
  if (!obj.eventTime) errs.push(fieldError.required('eventTime'));
  if (!EVENT_TYPES.includes(obj.type)) errs.push(fieldError.invalid('type', '', `has invalid value: ${obj.type ?? ''}`));
  if (obj.deprecatedFirstTimestamp) errs.push(fieldError.invalid('deprecatedFirstTimestamp', '', 'needs to be unset'));
  if (obj.deprecatedLastTimestamp) errs.push(fieldError.invalid('deprecatedLastTimestamp', '', 'needs to be unset'));
  if (obj.deprecatedCount) errs.push(fieldError.invalid('deprecatedCount', '', 'needs to be unset'));
  const src = obj.deprecatedSource;
  if (src && (src.component || src.host)) errs.push(fieldError.invalid('deprecatedSource', '', 'needs to be unset'));
  return errs;
}

/** Fields that may not change once an events.k8s.io/v1 Event exists (only series may). */
const IMMUTABLE = ['regarding', 'reason', 'note', 'type', 'eventTime', 'action', 'related', 'reportingController', 'reportingInstance'];

export const eventsV1Strategy: Strategy = {
  validate: validateEventV1,
  validateUpdate(obj, old) {
    const errs = validateEventV1(obj);
    for (const f of IMMUTABLE) {
      if (!isDeepStrictEqual(obj[f] ?? null, old[f] ?? null)) errs.push(fieldError.immutable(f, obj[f] ?? ''));
    }
    return errs;
  },
};
