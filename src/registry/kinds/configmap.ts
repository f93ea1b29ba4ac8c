/**
 * ConfigMap strategy (ValidateConfigMap): config keys, a key in either data or binaryData (not
 * both), base64 binaryData, at most 1 MiB in total; an `immutable` map's contents are frozen.
 */
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../../apis/object.ts';
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import type { Strategy } from '../types.ts';
import { decodeBase64, isConfigMapKey } from './secret.ts';

/** Largest total size of data values plus decoded binaryData values. */
export const MAX_CONFIGMAP_SIZE = 1024 * 1024;

function validateConfigMap(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  let total = 0;
  const data: Record<string, unknown> = obj.data ?? {};
  const binary: Record<string, unknown> = obj.binaryData ?? {};
  for (const [k, v] of Object.entries(data)) {
    for (const msg of isConfigMapKey(k)) errs.push(fieldError.invalid(`data[${k}]`, k, msg));
    if (typeof v !== 'string') errs.push(fieldError.invalid(`data[${k}]`, v, 'must be a string'));
    else total += Buffer.byteLength(v);
  }
  for (const [k, v] of Object.entries(binary)) {
    for (const msg of isConfigMapKey(k)) errs.push(fieldError.invalid(`binaryData[${k}]`, k, msg));
    if (Object.hasOwn(data, k)) errs.push(fieldError.invalid(`binaryData[${k}]`, k, 'duplicate of key present in data'));
    const d = decodeBase64(v);
    if ('error' in d) errs.push(fieldError.invalid(`binaryData[${k}]`, '<binary data>', d.error));
    else total += d.bytes.length;
  }
  if (total > MAX_CONFIGMAP_SIZE) {
    errs.push({ type: 'FieldValueTooLong', field: '', message: `Too long: must have at most ${MAX_CONFIGMAP_SIZE} bytes` });
  }
  return errs;
}

const norm = (m: unknown) => (m && typeof m === 'object' && Object.keys(m).length > 0 ? m : undefined);
const IMMUTABLE_MSG = 'field is immutable when `immutable` is set';

export const configmapStrategy: Strategy = {
  validate: validateConfigMap,
  validateUpdate(obj, old) {
    const errs = validateConfigMap(obj);
    if (old.immutable === true) {
      if (obj.immutable !== true) errs.push(fieldError.forbidden('immutable', IMMUTABLE_MSG));
      if (!isDeepStrictEqual(norm(obj.data), norm(old.data))) errs.push(fieldError.forbidden('data', IMMUTABLE_MSG));
      if (!isDeepStrictEqual(norm(obj.binaryData), norm(old.binaryData))) errs.push(fieldError.forbidden('binaryData', IMMUTABLE_MSG));
    }
    return errs;
  },
};
