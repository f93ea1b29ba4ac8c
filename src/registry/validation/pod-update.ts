/**
 * What a pod update may change (ValidatePodUpdate): container and init-container images,
 * activeDeadlineSeconds (set or lowered, never removed), tolerations (only additions; tolerationSeconds
 * may change), terminationGracePeriodSeconds from negative to 1, and removal of scheduling gates.
 * `spec.nodeName` may be set once (binding) and is immutable afterwards. Also status-update checks.
 */
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import { clone, isObject } from '../../apis/object.ts';
import { jsonEqual } from './fields.ts';

type Rec = Record<string, any>;

/** Kubernetes' wording, kept verbatim because users search for it. */
export const POD_UPDATE_FORBIDDEN = 'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

function sameToleration(a: Rec, b: Rec): boolean {
  return (a.key ?? '') === (b.key ?? '') && (a.operator ?? '') === (b.operator ?? '')
    && (a.value ?? '') === (b.value ?? '') && (a.effect ?? '') === (b.effect ?? '');
}

function containerUpdates(next: unknown, old: unknown, path: string): { errs: FieldError[]; stop: boolean } {
  const n = Array.isArray(next) ? next : [];
  const o = Array.isArray(old) ? old : [];
  if (n.length !== o.length) return { errs: [fieldError.forbidden(path, 'pod updates may not add or remove containers')], stop: true };
  const errs: FieldError[] = [];
  n.forEach((c: Rec, i) => {
    const image = c?.image;
    if (typeof image !== 'string' || image === '') errs.push(fieldError.required(`${path}[${i}].image`, ''));
    else if (image.trim() !== image) errs.push(fieldError.invalid(`${path}[${i}].image`, image, 'must not have leading or trailing whitespace'));
  });
  return { errs, stop: false };
}

/** A short description of what changed, standing in for Kubernetes' cmp.Diff. */
function describeDiff(old: Rec, next: Rec): string {
  const keys = [...new Set([...Object.keys(old), ...Object.keys(next)])].filter((k) => !jsonEqual(old[k], next[k])).sort();
  return keys.map((k) => `-  ${k}: ${JSON.stringify(old[k] ?? null)}\n+  ${k}: ${JSON.stringify(next[k] ?? null)}`).join('\n');
}

/** Validates the spec changes of a pod update. */
export function validatePodUpdate(pod: Rec, oldPod: Rec): FieldError[] {
  const spec: Rec = isObject(pod.spec) ? pod.spec : {};
  const old: Rec = isObject(oldPod.spec) ? oldPod.spec : {};
  const errs: FieldError[] = [];
  const c = containerUpdates(spec.containers, old.containers, 'spec.containers');
  const ic = containerUpdates(spec.initContainers, old.initContainers, 'spec.initContainers');
  errs.push(...c.errs, ...ic.errs);
  if (c.stop || ic.stop) return errs;

  const ads = spec.activeDeadlineSeconds;
  const oldAds = old.activeDeadlineSeconds;
  if (ads !== undefined && ads !== null) {
    if (typeof oldAds === 'number' && typeof ads === 'number' && oldAds < ads) {
      errs.push(fieldError.invalid('spec.activeDeadlineSeconds', ads, 'must be less than or equal to previous value'));
    }
  } else if (oldAds !== undefined && oldAds !== null) {
    errs.push(fieldError.invalid('spec.activeDeadlineSeconds', null, 'must not update from a positive integer to nil value'));
  }

  const tols: Rec[] = Array.isArray(spec.tolerations) ? spec.tolerations : [];
  for (const t of Array.isArray(old.tolerations) ? old.tolerations : []) {
    if (!tols.some((n) => sameToleration(t, n))) {
      errs.push(fieldError.forbidden('spec.tolerations', 'existing toleration can not be modified except its tolerationSeconds'));
      break;
    }
  }
  const oldGates: Rec[] = Array.isArray(old.schedulingGates) ? old.schedulingGates : [];
  for (const g of Array.isArray(spec.schedulingGates) ? spec.schedulingGates : []) {
    if (!oldGates.some((o) => o?.name === g?.name)) {
      errs.push(fieldError.forbidden('spec.schedulingGates', 'only deletion is allowed, but found new scheduling gate ' + JSON.stringify(g?.name ?? '')));
      break;
    }
  }

  const oldNode = old.nodeName ?? '';
  const newNode = spec.nodeName ?? '';
  if (oldNode && newNode !== oldNode) errs.push(fieldError.immutable('spec.nodeName', spec.nodeName));

  if (jsonEqual(spec, old)) return errs;
  // Copy the mutable fields from the old spec; anything still different is a forbidden change.
  const munged: Rec = clone(spec);
  for (const [list, olds] of [['containers', old.containers], ['initContainers', old.initContainers]] as const) {
    (munged[list] ?? []).forEach((ctr: Rec, i: number) => { if (isObject(ctr)) ctr.image = olds?.[i]?.image; });
  }
  munged.activeDeadlineSeconds = old.activeDeadlineSeconds;
  munged.tolerations = old.tolerations;
  munged.schedulingGates = old.schedulingGates;
  munged.nodeName = old.nodeName;
  if (typeof old.terminationGracePeriodSeconds === 'number' && old.terminationGracePeriodSeconds < 0 && spec.terminationGracePeriodSeconds === 1) {
    munged.terminationGracePeriodSeconds = old.terminationGracePeriodSeconds;
  }
  if (!jsonEqual(munged, old)) errs.push(fieldError.forbidden('spec', `${POD_UPDATE_FORBIDDEN}\n${describeDiff(old, munged)}`));
  return errs;
}

const TERMINAL = ['Succeeded', 'Failed'];

/** ValidatePodStatusUpdate, in part: qosClass is fixed, terminal phases and terminated containers stay so. */
export function validatePodStatusUpdate(pod: Rec, oldPod: Rec): FieldError[] {
  const errs: FieldError[] = [];
  const st: Rec = isObject(pod.status) ? pod.status : {};
  const old: Rec = isObject(oldPod.status) ? oldPod.status : {};
  // Lenient where Kubernetes is strict: an absent qosClass is not treated as a change.
  if (st.qosClass && old.qosClass && st.qosClass !== old.qosClass) errs.push(fieldError.immutable('status.qosClass', st.qosClass));
  if (TERMINAL.includes(old.phase) && st.phase !== old.phase) {
    errs.push(fieldError.forbidden('status.phase', `cannot transition from terminal phase ${old.phase} to ${st.phase ?? '""'}`));
  }
  if (oldPod.spec?.restartPolicy === 'Never') {
    const olds: Rec[] = Array.isArray(old.containerStatuses) ? old.containerStatuses : [];
    (Array.isArray(st.containerStatuses) ? st.containerStatuses : []).forEach((cs: Rec, i: number) => {
      const prev = olds.find((o) => o?.name === cs?.name);
      if (prev?.state?.terminated && !cs?.state?.terminated) {
        errs.push(fieldError.forbidden(`status.containerStatuses[${i}].state`, 'may not be transitioned to non-terminated state'));
      }
    });
  }
  return errs;
}
