/**
 * The generic half of every write, shared by all kinds (Kubernetes' rest.BeforeCreate / BeforeUpdate):
 * system metadata, generation, status isolation, then the kind's strategy and validation.
 */
import { randomUUID } from 'node:crypto';
import type { KubeObject } from '../apis/object.ts';
import { errors } from '../errors/index.ts';
import type { FieldError } from '../apis/field-errors.ts';
import type { ResourceType } from './types.ts';
import { validateObjectMeta, validateObjectMetaUpdate, NAME_FORMAT } from './validation/object-meta.ts';
import { groupVersion } from '../apis/resources.ts';
import { rfc3339 } from '../apis/time.ts';
import type { UserInfo } from '../auth/attributes.ts';
import { SYSTEM_USER } from './admission/admission.ts';
import { jsonEqual } from './json-equal.ts';

const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** `generateName` + 5 random characters, as Kubernetes' SimpleNameGenerator. */
export function generateName(base: string): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += GENERATE_ALPHABET[Math.floor(Math.random() * GENERATE_ALPHABET.length)];
  return base.slice(0, 63 - 5) + suffix;
}

function nameFormat(type: ResourceType) {
  return NAME_FORMAT[`${type.info.group}/${type.info.plural}`] ?? 'subdomain';
}

function fail(type: ResourceType, obj: KubeObject, errs: FieldError[]): void {
  if (errs.length) throw errors.invalid(type.info.group, type.info.kind, obj.metadata?.name ?? '', errs);
}

/** Everything in the object except metadata and status: a change here bumps `generation`. */
function specPart(obj: KubeObject): Record<string, unknown> {
  const { metadata: _m, status: _s, ...rest } = obj;
  return rest;
}

/** Prepares a new object for storage; throws 422 on invalid input. `namespace` is from the URL, `user` who creates it. */
export function prepareCreate(type: ResourceType, obj: KubeObject, namespace: string | undefined, user: UserInfo = SYSTEM_USER, warnings?: string[]): KubeObject {
  const { info, strategy } = type;
  obj.apiVersion = groupVersion(info);
  obj.kind = info.kind;
  const m = obj.metadata;
  if (info.namespaced) m.namespace = namespace;
  else delete m.namespace;
  if (!m.name && m.generateName) m.name = generateName(m.generateName);
  m.uid = randomUUID();
  m.creationTimestamp = rfc3339();
  delete m.resourceVersion;
  delete m.deletionTimestamp;
  delete m.deletionGracePeriodSeconds;
  delete m.selfLink;
  if (info.generation) m.generation = 1;
  else delete m.generation;
  strategy.defaults?.(obj);
  strategy.prepareForCreate?.(obj, user);
  fail(type, obj, [
    ...validateObjectMeta(m, { namespaced: info.namespaced, nameFormat: nameFormat(type) }),
    ...(strategy.validate?.(obj, { warnings }) ?? []),
  ]);
  return obj;
}

/** The create's validation that needs asynchronous work (Strategy.validateCreateAsync); throws 422. */
export async function validateCreateAsync(type: ResourceType, obj: KubeObject): Promise<void> {
  if (type.strategy.validateCreateAsync) fail(type, obj, await type.strategy.validateCreateAsync(obj));
}

/**
 * Prepares an update of the main resource (`subresource` undefined) or of its status. Returns the
 * object to store, or `undefined` when nothing changed (no write, no new resourceVersion).
 */
export type UpdateKind = 'status' | 'raw' | (string & {});

/**
 * `subresource`: undefined for the main resource; 'status' for the status subresource; 'raw' for the
 * server's own subresources (binding, finalize) that set fields the strategy would refuse from clients;
 * or the name of one of the kind's own subresources (Strategy.subresources, e.g. a CSR's approval).
 */
export function prepareUpdate(type: ResourceType, obj: KubeObject, old: KubeObject, subresource?: UpdateKind, warnings?: string[]): KubeObject | undefined {
  const { info, strategy } = type;
  const hasStatus = info.subresources?.includes('status') ?? false;
  const own = subresource !== undefined && subresource !== 'raw' ? strategy.subresources?.[subresource] : undefined;
  if (subresource !== undefined && subresource !== 'raw' && subresource !== 'status' && !own) {
    throw errors.methodNotAllowed(`updates are not supported on ${info.plural}/${subresource}`);
  }
  let next: KubeObject;
  if (own) {
    next = own.prepare(obj, structuredClone(old));
  } else if (subresource === 'status') {
    // A status write changes status only (Kubernetes' status strategies reset everything else). The
    // rest is shared with `old`, a decode of its own that nothing changes after the write.
    next = { ...old, metadata: { ...old.metadata } };
    if (obj.status === undefined) delete next.status;
    else next.status = obj.status;
    // …and the managedFields the store stamped for it (registry/managed-fields.ts).
    if (obj.metadata?.managedFields) next.metadata.managedFields = obj.metadata.managedFields;
  } else {
    next = obj;
    next.apiVersion = groupVersion(info);
    next.kind = info.kind;
    const m = next.metadata;
    const om = old.metadata;
    // System fields are the server's, whatever the client sent.
    m.uid = om.uid;
    m.creationTimestamp = om.creationTimestamp;
    if (info.namespaced) m.namespace = m.namespace ?? om.namespace;
    if (om.deletionTimestamp) m.deletionTimestamp = om.deletionTimestamp;
    else delete m.deletionTimestamp;
    if (om.deletionGracePeriodSeconds !== undefined) m.deletionGracePeriodSeconds = om.deletionGracePeriodSeconds;
    else delete m.deletionGracePeriodSeconds;
    delete m.selfLink;
    if (subresource !== 'raw') {
      if (hasStatus) {
        if (old.status === undefined) delete next.status;
        else next.status = old.status;
      }
      strategy.defaults?.(next);
      strategy.prepareForUpdate?.(next, old);
    }
    if (info.generation) {
      m.generation = om.generation ?? 1;
      if (!jsonEqual(specPart(next), specPart(old))) m.generation += 1;
    } else delete m.generation;
    // A deleting object may lose finalizers but not gain new ones.
    if (om.deletionTimestamp) {
      const added = (m.finalizers ?? []).filter((f) => !(om.finalizers ?? []).includes(f));
      if (added.length) {
        fail(type, next, [{ type: 'FieldValueForbidden', field: 'metadata.finalizers', message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}` }]);
      }
    }
  }
  // What a write changes is mostly in spec or status: looked at first, before metadata's managedFields.
  const a = { ...next, metadata: { ...next.metadata, resourceVersion: undefined } };
  const b = { ...old, metadata: { ...old.metadata, resourceVersion: undefined } };
  if (jsonEqual(next.status, old.status) && jsonEqual(next.spec, old.spec) && jsonEqual(a, b)) return undefined;
  const errs: FieldError[] = [...validateObjectMetaUpdate(next.metadata, old.metadata)];
  if (own) errs.push(...own.validate(next, old, { old, warnings }));
  else if (subresource === 'status') errs.push(...(strategy.validateStatusUpdate?.(next, old) ?? []));
  else if (subresource !== 'raw') {
    errs.push(...validateObjectMeta(next.metadata, { namespaced: info.namespaced, nameFormat: nameFormat(type) }));
    errs.push(...(strategy.validate?.(next, { old, warnings }) ?? []));
    errs.push(...(strategy.validateUpdate?.(next, old) ?? []));
  }
  fail(type, next, errs);
  return next;
}
