/**
 * core/v1 Event strategy, after legacyValidateEvent in pkg/apis/core/validation/events.go: old-style
 * events (no eventTime) only need their namespace to agree with involvedObject's; events with an
 * eventTime need reportingComponent, reportingInstance, action and reason, within length limits.
 * Metadata name format is not checked for core/v1 events (NAME_FORMAT '/events' is 'any').
 */
import type { KubeObject } from '../../apis/object.ts';
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import type { Strategy } from '../types.ts';
import { isDNS1123Subdomain, isQualifiedName } from '../../apis/names.ts';

export const REPORTING_INSTANCE_LIMIT = 128;
export const ACTION_LIMIT = 128;
export const REASON_LIMIT = 128;
export const NOTE_LIMIT = 1024;
/** Event types Kubernetes defines. */
export const EVENT_TYPES = ['Normal', 'Warning'];

/** Field names that differ between core/v1 and events.k8s.io/v1. */
export interface EventFieldNames {
  involvedObject: string;
  reportingController: string;
  message: string;
}

/** Shared length/required checks for events that carry an eventTime. */
export function validateReportedEvent(e: {
  reportingController?: string; reportingInstance?: string; action?: string; reason?: string; message?: string;
}, names: EventFieldNames): FieldError[] {
  const errs: FieldError[] = [];
  const rc = e.reportingController ?? '';
  if (!rc) errs.push(fieldError.required(names.reportingController));
  else for (const msg of isQualifiedName(rc)) errs.push(fieldError.invalid(names.reportingController, rc, msg));
  const inst = e.reportingInstance ?? '';
  if (!inst) errs.push(fieldError.required('reportingInstance'));
  if (inst.length > REPORTING_INSTANCE_LIMIT) errs.push(fieldError.invalid('reportingInstance', '', `can have at most ${REPORTING_INSTANCE_LIMIT} characters`));
  const action = e.action ?? '';
  if (!action) errs.push(fieldError.required('action'));
  if (action.length > ACTION_LIMIT) errs.push(fieldError.invalid('action', '', `can have at most ${ACTION_LIMIT} characters`));
  const reason = e.reason ?? '';
  if (!reason) errs.push(fieldError.required('reason'));
  if (reason.length > REASON_LIMIT) errs.push(fieldError.invalid('reason', '', `can have at most ${REASON_LIMIT} characters`));
  if ((e.message ?? '').length > NOTE_LIMIT) errs.push(fieldError.invalid(names.message, '', `can have at most ${NOTE_LIMIT} characters`));
  return errs;
}

const CORE_NAMES: EventFieldNames = { involvedObject: 'involvedObject', reportingController: 'reportingComponent', message: 'message' };

function validateCoreEvent(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const ns = obj.metadata?.namespace ?? '';
  const involved = obj.involvedObject;
  if (!involved || typeof involved !== 'object') {
    errs.push(fieldError.required('involvedObject'));
  }
  const involvedNs = involved?.namespace ?? '';
  if (!obj.eventTime) {
    // Old clients may put cluster-scoped objects' events in "default".
    const ok = involvedNs ? ns === involvedNs : ns === '' || ns === 'default';
    if (!ok) errs.push(fieldError.invalid('involvedObject.namespace', involvedNs, 'does not match event.namespace'));
  } else {
    if (!involvedNs && ns !== 'default' && ns !== 'kube-system') {
      errs.push(fieldError.invalid('involvedObject.namespace', involvedNs, 'does not match event.namespace'));
    }
    errs.push(...validateReportedEvent({
      reportingController: obj.reportingComponent, reportingInstance: obj.reportingInstance,
      action: obj.action, reason: obj.reason, message: obj.message,
    }, CORE_NAMES));
  }
  for (const msg of isDNS1123Subdomain(ns)) errs.push(fieldError.invalid('namespace', ns, msg));
  if (obj.count !== undefined && obj.count !== null && !(Number.isInteger(obj.count) && obj.count >= 0)) {
    errs.push(fieldError.invalid('count', obj.count, 'must be greater than or equal to 0'));
  }
  if (obj.firstTimestamp && obj.lastTimestamp && Date.parse(obj.lastTimestamp) < Date.parse(obj.firstTimestamp)) {
    errs.push(fieldError.invalid('lastTimestamp', obj.lastTimestamp, 'must not be before firstTimestamp'));
  }
  return errs;
}

export const eventStrategy: Strategy = {
  validate: validateCoreEvent,
  validateUpdate: validateCoreEvent,
};
