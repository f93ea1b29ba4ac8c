/**
 * Secret strategy (pkg/apis/core/validation ValidateSecret): `stringData` folds into base64 `data`,
 * keys are config keys, values must be base64, the whole is at most 1 MiB, well-known types need
 * their keys, and `type` and immutable contents cannot change.
 */
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../../apis/object.ts';
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import type { Strategy } from '../types.ts';

/** Largest total decoded size of a secret's (or config map's) data. */
export const MAX_SECRET_SIZE = 1024 * 1024;

/** A config-map / secret key: `[-._a-zA-Z0-9]+`, ≤ 253 characters, not '.', '..' or '..'-prefixed. */
export function isConfigMapKey(key: string): string[] {
  const errs: string[] = [];
  if (key.length > 253) errs.push('must be no more than 253 characters');
  if (!/^[-._a-zA-Z0-9]+$/.test(key)) {
    errs.push("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')");
  }
  if (key === '.') errs.push("must not be '.'");
  else if (key === '..') errs.push("must not be '..'");
  else if (key.startsWith('..')) errs.push("must not start with '..'");
  return errs;
}

/**
 * Decodes standard padded base64 as Go's encoding/json does for []byte (CR/LF ignored); returns
 * the byte length, or an error worded like Go's base64.CorruptInputError.
 */
export function decodeBase64(value: unknown): { bytes: Buffer } | { error: string } {
  if (typeof value !== 'string') return { error: 'must be a base64-encoded string' };
  const s = value.replace(/[\r\n]/g, '');
  const bad = s.search(/[^A-Za-z0-9+/=]/);
  if (bad >= 0) return { error: `illegal base64 data at input byte ${bad}` };
  const pad = s.indexOf('=');
  if (pad >= 0 && (!/^=={0,1}$/.test(s.slice(pad)) || s.length % 4 !== 0)) return { error: `illegal base64 data at input byte ${pad}` };
  if (s.length % 4 !== 0) return { error: `illegal base64 data at input byte ${s.length - (s.length % 4)}` };
  return { bytes: Buffer.from(s, 'base64') };
}

const REDACTED = '<secret contents redacted>';

function dataBytes(obj: KubeObject, key: string): Buffer | undefined {
  const v = obj.data?.[key];
  if (v === undefined || v === null) return undefined;
  const d = decodeBase64(v);
  return 'bytes' in d ? d.bytes : Buffer.alloc(0);
}

function validateTypeKeys(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const has = (k: string) => obj.data !== undefined && obj.data !== null && Object.hasOwn(obj.data, k);
  const jsonKey = (k: string) => {
    if (!has(k)) { errs.push(fieldError.required(`data[${k}]`)); return; }
    try { JSON.parse(dataBytes(obj, k)!.toString('utf8')); } catch (e) {
      errs.push(fieldError.invalid(`data[${k}]`, REDACTED, (e as Error).message));
    }
  };
  switch (obj.type) {
    case 'kubernetes.io/service-account-token':
      // Only the name annotation is needed; token and uid are filled in by a controller.
      if (!obj.metadata?.annotations?.['kubernetes.io/service-account.name']) {
        errs.push(fieldError.required('metadata.annotations[kubernetes.io/service-account.name]'));
      }
      break;
    case 'kubernetes.io/dockercfg': jsonKey('.dockercfg'); break;
    case 'kubernetes.io/dockerconfigjson': jsonKey('.dockerconfigjson'); break;
    case 'kubernetes.io/basic-auth':
      // Either may be empty, but one of the two keys must be present.
      if (!has('username') && !has('password')) {
        errs.push(fieldError.required('data[username]'), fieldError.required('data[password]'));
      }
      break;
    case 'kubernetes.io/ssh-auth':
      if (!dataBytes(obj, 'ssh-privatekey')?.length) errs.push(fieldError.required('data[ssh-privatekey]'));
      break;
    case 'kubernetes.io/tls':
      if (!has('tls.crt')) errs.push(fieldError.required('data[tls.crt]'));
      if (!has('tls.key')) errs.push(fieldError.required('data[tls.key]'));
      break;
    default: break;
  }
  return errs;
}

function validateSecret(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  let total = 0;
  const data = obj.data ?? {};
  if (typeof data !== 'object' || Array.isArray(data)) return [fieldError.invalid('data', REDACTED, 'must be a map of strings')];
  for (const [k, v] of Object.entries(data)) {
    for (const msg of isConfigMapKey(k)) errs.push(fieldError.invalid(`data[${k}]`, k, msg));
    const d = decodeBase64(v);
    if ('error' in d) errs.push(fieldError.invalid(`data[${k}]`, REDACTED, d.error));
    else total += d.bytes.length;
  }
  if (total > MAX_SECRET_SIZE) {
    errs.push({ type: 'FieldValueTooLong', field: 'data', message: `Too long: must have at most ${MAX_SECRET_SIZE} bytes` });
  }
  errs.push(...validateTypeKeys(obj));
  return errs;
}

const norm = (m: unknown) => (m && typeof m === 'object' && Object.keys(m).length > 0 ? m : undefined);

export const secretStrategy: Strategy = {
  defaults(obj) {
    if (!obj.type) obj.type = 'Opaque';
    // stringData is write-only: merged into data (winning over it) and dropped, as conversion does.
    if (obj.stringData && typeof obj.stringData === 'object') {
      const data: Record<string, string> = { ...(obj.data ?? {}) };
      for (const [k, v] of Object.entries(obj.stringData)) data[k] = Buffer.from(String(v ?? ''), 'utf8').toString('base64');
      obj.data = data;
    }
    delete obj.stringData;
  },
  validate: validateSecret,
  validateUpdate(obj, old) {
    const errs = validateSecret(obj);
    if ((obj.type ?? '') !== (old.type ?? '')) errs.push(fieldError.immutable('type', obj.type ?? ''));
    if (old.immutable === true) {
      if (obj.immutable !== true) errs.push(fieldError.forbidden('immutable', 'field is immutable when `immutable` is set'));
      if (!isDeepStrictEqual(norm(obj.data), norm(old.data))) {
        errs.push(fieldError.forbidden('data', 'field is immutable when `immutable` is set'));
      }
    }
    return errs;
  },
};
