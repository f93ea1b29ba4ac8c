/**
 * Generic `metadata` validation, in the manner of apimachinery's ValidateObjectMeta /
 * ValidateObjectMetaUpdate plus the core group's extra finalizer-name rule. Field paths and
 * messages follow Kubernetes so kubectl prints what users expect.
 */
import type { ObjectMeta, OwnerReference } from '../../apis/object.ts';
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue } from '../../apis/names.ts';

/** How a kind's `metadata.name` is checked: Kubernetes' per-kind ValidateNameFunc. */
export type NameFormat = 'subdomain' | 'label' | 'dns1035' | 'path' | 'any';

export interface ObjectMetaOptions {
  namespaced: boolean;
  nameFormat: NameFormat;
}

/** Total bytes of annotation keys plus values (apimachinery's TotalAnnotationSizeLimitB). */
export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

/**
 * Finalizers that may be written without a domain prefix. The CRD cleanup finalizer is one: upstream
 * validates CRDs with apimachinery's ObjectMeta rules, which ask no prefix of it.
 */
export const STANDARD_FINALIZERS: readonly string[] = ['kubernetes', 'orphan', 'foregroundDeletion', 'customresourcecleanup.apiextensions.k8s.io'];

/**
 * Name format per resource, keyed `"<group>/<plural>"` ('' group for core), as each kind's
 * validation picks its ValidateNameFunc in Kubernetes.
 */
export const NAME_FORMAT: Record<string, NameFormat> = {
  '/namespaces': 'label',
  '/pods': 'subdomain',
  '/services': 'dns1035',
  '/endpoints': 'subdomain',
  '/configmaps': 'subdomain',
  '/secrets': 'subdomain',
  '/nodes': 'subdomain',
  // core/v1 Events skip ObjectMeta name validation entirely (legacy clients).
  '/events': 'any',
  '/serviceaccounts': 'subdomain',
  // ValidatePersistentVolumeName = NameIsDNSSubdomain, for PVs and PVCs alike.
  '/persistentvolumes': 'subdomain',
  '/persistentvolumeclaims': 'subdomain',
  '/replicationcontrollers': 'subdomain',
  'apps/deployments': 'subdomain',
  'apps/replicasets': 'subdomain',
  'apps/statefulsets': 'subdomain',
  'apps/daemonsets': 'subdomain',
  'apps/controllerrevisions': 'subdomain',
  'batch/jobs': 'subdomain',
  'batch/cronjobs': 'subdomain',
  'coordination.k8s.io/leases': 'subdomain',
  'node.k8s.io/runtimeclasses': 'subdomain',
  'storage.k8s.io/storageclasses': 'subdomain',
  'scheduling.k8s.io/priorityclasses': 'subdomain',
  'discovery.k8s.io/endpointslices': 'subdomain',
  'networking.k8s.io/ingresses': 'subdomain',
  'networking.k8s.io/ingressclasses': 'subdomain',
  'admissionregistration.k8s.io/mutatingwebhookconfigurations': 'subdomain',
  // A CRD's name must also be <plural>.<group>, which its own validation checks.
  'apiextensions.k8s.io/customresourcedefinitions': 'subdomain',
  'admissionregistration.k8s.io/validatingwebhookconfigurations': 'subdomain',
  'policy/poddisruptionbudgets': 'subdomain',
  'autoscaling/horizontalpodautoscalers': 'subdomain',
  // events.k8s.io/v1 creates get strict ObjectMeta validation.
  'events.k8s.io/events': 'subdomain',
  // ValidateCertificateRequestName: "We don't care what you call your certificate requests" (one path segment still).
  'certificates.k8s.io/certificatesigningrequests': 'any',
  // ValidateRBACName: any path segment (`system:node`, `system:controller:…`).
  'rbac.authorization.k8s.io/roles': 'path',
  'rbac.authorization.k8s.io/rolebindings': 'path',
  'rbac.authorization.k8s.io/clusterroles': 'path',
  'rbac.authorization.k8s.io/clusterrolebindings': 'path',
  // The reviews are never stored: their metadata must be empty (checked by the review itself).
  'authorization.k8s.io/localsubjectaccessreviews': 'any',
  'authorization.k8s.io/selfsubjectaccessreviews': 'any',
  'authorization.k8s.io/selfsubjectrulesreviews': 'any',
  'authorization.k8s.io/subjectaccessreviews': 'any',
  'authentication.k8s.io/tokenreviews': 'any',
  'authentication.k8s.io/selfsubjectreviews': 'any',
};

/** A path-segment name: not '.' or '..', no '/' or '%' (apimachinery's IsValidPathSegmentName). */
export function isValidPathSegmentName(name: string, prefix = false): string[] {
  const errs: string[] = [];
  if (!prefix && (name === '.' || name === '..')) errs.push(`may not be '${name}'`);
  for (const bad of ['/', '%']) if (name.includes(bad)) errs.push(`may not contain '${bad}'`);
  return errs;
}

/** Problems with `name` under `format`; `prefix` is true for generateName (a trailing '-' is fine). */
export function checkName(format: NameFormat, name: string, prefix = false): string[] {
  // Kubernetes masks a trailing dash of a prefix, since a random suffix follows.
  const n = prefix && name.endsWith('-') ? `${name.slice(0, -1)}a` : name;
  switch (format) {
    case 'subdomain': return isDNS1123Subdomain(n);
    case 'label': return isDNS1123Label(n);
    case 'dns1035': return isDNS1035Label(n);
    case 'path': return isValidPathSegmentName(name, prefix);
    case 'any': return [];
  }
}

/** Label keys must be qualified names and values label values; errors sit on the map's path. */
export function validateLabels(labels: Record<string, string> | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    for (const msg of isQualifiedName(k)) errs.push(fieldError.invalid(path, k, msg));
    if (typeof v !== 'string') {
      errs.push(fieldError.invalid(path, v, 'must be a string'));
      continue;
    }
    for (const msg of isValidLabelValue(v)) errs.push(fieldError.invalid(path, v, msg));
  }
  return errs;
}

/** Annotation keys are qualified names (case-insensitive); the whole map is at most 256 KiB. */
export function validateAnnotations(annotations: Record<string, string> | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let total = 0;
  for (const [k, v] of Object.entries(annotations ?? {})) {
    for (const msg of isQualifiedName(k.toLowerCase())) errs.push(fieldError.invalid(path, k, msg));
    total += Buffer.byteLength(k) + Buffer.byteLength(String(v ?? ''));
  }
  if (total > TOTAL_ANNOTATION_SIZE_LIMIT) {
    // field.TooLong wording of Kubernetes 1.32 (the shared helper carries the older text).
    errs.push({ type: 'FieldValueTooLong', field: path, message: `Too long: must have at most ${TOTAL_ANNOTATION_SIZE_LIMIT} bytes` });
  }
  return errs;
}

/** Each reference needs apiVersion (with a version), kind, name and uid; one controller at most. */
export function validateOwnerReferences(refs: OwnerReference[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let firstController = '';
  (refs ?? []).forEach((ref, i) => {
    const p = `${path}[${i}]`;
    const apiVersion = ref.apiVersion ?? '';
    // The version is what follows the last '/', or the whole string for the core group.
    const version = apiVersion.includes('/') ? apiVersion.slice(apiVersion.lastIndexOf('/') + 1) : apiVersion;
    if (!version) errs.push(fieldError.invalid(`${p}.apiVersion`, apiVersion, 'version must not be empty'));
    if (!ref.kind) errs.push(fieldError.invalid(`${p}.kind`, ref.kind ?? '', 'kind must not be empty'));
    if (!ref.name) errs.push(fieldError.invalid(`${p}.name`, ref.name ?? '', 'name must not be empty'));
    if (!ref.uid) errs.push(fieldError.invalid(`${p}.uid`, ref.uid ?? '', 'uid must not be empty'));
    if (apiVersion === 'v1' && ref.kind === 'Event') {
      errs.push(fieldError.invalid(p, ref, '/v1, Kind=Event is disallowed from being an owner'));
    }
    if (ref.controller === true) {
      const cur = `${ref.kind}/${ref.name}`;
      if (firstController) {
        errs.push(fieldError.invalid(path, refs,
          `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${cur}`));
      } else firstController = cur;
    }
  });
  return errs;
}

/** Qualified names; a name without a '/' must be a standard finalizer; orphan excludes foregroundDeletion. */
export function validateFinalizers(finalizers: string[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const list = finalizers ?? [];
  list.forEach((f, i) => {
    for (const msg of isQualifiedName(f)) errs.push(fieldError.invalid(path, f, msg));
    if (!f.includes('/') && !STANDARD_FINALIZERS.includes(f)) {
      errs.push(fieldError.invalid(`${path}[${i}]`, f, 'name is neither a standard finalizer name nor is it fully qualified'));
    }
  });
  if (list.includes('orphan') && list.includes('foregroundDeletion')) {
    errs.push(fieldError.invalid(path, list, 'finalizer orphan and foregroundDeletion cannot be both set'));
  }
  return errs;
}

/**
 * Validates metadata of an object being created (after name generation). `meta` may be missing;
 * then only the name/namespace requirements are reported.
 */
export function validateObjectMeta(meta: ObjectMeta | undefined, opts: ObjectMetaOptions): FieldError[] {
  const m: ObjectMeta = meta ?? {};
  const errs: FieldError[] = [];
  if (m.generateName) {
    for (const msg of checkName(opts.nameFormat, m.generateName, true)) {
      errs.push(fieldError.invalid('metadata.generateName', m.generateName, msg));
    }
  }
  if (!m.name) {
    errs.push(fieldError.required('metadata.name', 'name or generateName is required'));
  } else {
    for (const msg of checkName(opts.nameFormat, m.name)) errs.push(fieldError.invalid('metadata.name', m.name, msg));
  }
  if (opts.namespaced) {
    if (!m.namespace) errs.push(fieldError.required('metadata.namespace'));
    else for (const msg of isDNS1123Label(m.namespace)) errs.push(fieldError.invalid('metadata.namespace', m.namespace, msg));
  } else if (m.namespace) {
    errs.push(fieldError.forbidden('metadata.namespace', 'not allowed on this type'));
  }
  if (typeof m.generation === 'number' && m.generation < 0) {
    errs.push(fieldError.invalid('metadata.generation', m.generation, 'must be greater than or equal to 0'));
  }
  errs.push(...validateLabels(m.labels, 'metadata.labels'));
  errs.push(...validateAnnotations(m.annotations, 'metadata.annotations'));
  errs.push(...validateOwnerReferences(m.ownerReferences, 'metadata.ownerReferences'));
  errs.push(...validateFinalizers(m.finalizers, 'metadata.finalizers'));
  return errs;
}

/**
 * Validates metadata on update: identity fields immutable, no new finalizers while deleting, and
 * labels/annotations/owner references/finalizers still well-formed. The name format is not
 * re-checked (the name cannot change). resourceVersion presence is left to the store, which fills
 * it for unconditional updates.
 */
export function validateObjectMetaUpdate(meta: ObjectMeta | undefined, old: ObjectMeta | undefined): FieldError[] {
  const m: ObjectMeta = meta ?? {};
  const o: ObjectMeta = old ?? {};
  const errs: FieldError[] = [];
  if (o.deletionTimestamp) {
    const before = new Set(o.finalizers ?? []);
    const extra = [...new Set((m.finalizers ?? []).filter((f) => !before.has(f)))].sort();
    if (extra.length > 0) {
      errs.push(fieldError.forbidden('metadata.finalizers',
        `no new finalizers can be added if the object is being deleted, found new finalizers []string{${extra.map((f) => JSON.stringify(f)).join(', ')}}`));
    }
  }
  if ((m.generation ?? 0) < (o.generation ?? 0)) {
    errs.push(fieldError.invalid('metadata.generation', m.generation ?? 0, 'must not be decremented'));
  }
  const immutable = ['name', 'namespace', 'uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds'] as const;
  for (const f of immutable) {
    // An absent value and '' mean the same in Kubernetes' Go structs.
    const nv = m[f] ?? '';
    const ov = o[f] ?? '';
    if (nv !== ov) errs.push(fieldError.immutable(`metadata.${f}`, m[f] ?? ''));
  }
  errs.push(...validateLabels(m.labels, 'metadata.labels'));
  errs.push(...validateAnnotations(m.annotations, 'metadata.annotations'));
  errs.push(...validateOwnerReferences(m.ownerReferences, 'metadata.ownerReferences'));
  errs.push(...validateFinalizers(m.finalizers, 'metadata.finalizers'));
  return errs;
}
