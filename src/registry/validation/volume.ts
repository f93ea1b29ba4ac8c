/**
 * Pod volumes as in ValidatePodSpec's validateVolumes: names (DNS-1123 labels, unique), exactly one
 * source, and the required fields of the common sources.
 */
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import { isObject } from '../../apis/object.ts';
import { VOLUME_SOURCES } from '../defaults/pod-spec.ts';
import { isDNS1123Label } from '../../apis/names.ts';
import { tryParseQuantity, QUANTITY_MSG } from '../../apis/quantity.ts';
import { NEGATIVE_MSG } from './fields.ts';

type Rec = Record<string, any>;

const FILE_MODE_MSG = 'must be a number between 0 and 0777 (octal), both inclusive';
const HOST_PATH_TYPES = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'];

function mode(v: unknown, path: string): FieldError[] {
  if (v === undefined || v === null) return [];
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0o777 ? [] : [fieldError.invalid(path, v, FILE_MODE_MSG)];
}

function required(obj: Rec, key: string, path: string): FieldError[] {
  return typeof obj[key] === 'string' && obj[key] !== '' ? [] : [fieldError.required(`${path}.${key}`, '')];
}

function validateSource(kind: string, src: unknown, path: string): FieldError[] {
  if (!isObject(src)) return [fieldError.typeInvalid(path, src, 'must be an object')];
  switch (kind) {
    case 'hostPath': {
      const errs = required(src, 'path', path);
      if (src.type !== undefined && src.type !== null && !HOST_PATH_TYPES.includes(src.type)) {
        errs.push(fieldError.notSupported(`${path}.type`, src.type, HOST_PATH_TYPES));
      }
      return errs;
    }
    case 'emptyDir': {
      const errs: FieldError[] = [];
      if (src.medium !== undefined && !['', 'Memory', 'HugePages'].includes(src.medium) && !String(src.medium).startsWith('HugePages-')) {
        errs.push(fieldError.notSupported(`${path}.medium`, src.medium, ['', 'Memory', 'HugePages']));
      }
      if (src.sizeLimit !== undefined) {
        const q = tryParseQuantity(src.sizeLimit);
        if (q === undefined) errs.push(fieldError.invalid(`${path}.sizeLimit`, src.sizeLimit, QUANTITY_MSG));
        else if (q < 0) errs.push(fieldError.invalid(`${path}.sizeLimit`, String(src.sizeLimit), NEGATIVE_MSG));
      }
      return errs;
    }
    case 'secret':
      return [...required(src, 'secretName', path), ...mode(src.defaultMode, `${path}.defaultMode`)];
    case 'configMap':
      return [...required(src, 'name', path), ...mode(src.defaultMode, `${path}.defaultMode`)];
    case 'persistentVolumeClaim':
      return required(src, 'claimName', path);
    case 'nfs': {
      const errs = [...required(src, 'server', path), ...required(src, 'path', path)];
      if (typeof src.path === 'string' && src.path && !src.path.startsWith('/')) errs.push(fieldError.invalid(`${path}.path`, src.path, 'must be an absolute path'));
      return errs;
    }
    case 'csi':
      return required(src, 'driver', path);
    case 'downwardAPI':
    case 'projected':
      return mode(src.defaultMode, `${path}.defaultMode`);
    default:
      return [];
  }
}

/** Validates `volumes` at `path` (e.g. `spec.volumes`); returns the errors and the set of volume names. */
export function validateVolumes(volumes: unknown, path: string): { errs: FieldError[]; names: Set<string> } {
  const names = new Set<string>();
  if (volumes === undefined || volumes === null) return { errs: [], names };
  if (!Array.isArray(volumes)) return { errs: [fieldError.typeInvalid(path, volumes, 'must be a list')], names };
  const errs: FieldError[] = [];
  volumes.forEach((vol: Rec, i) => {
    const p = `${path}[${i}]`;
    if (!isObject(vol)) {
      errs.push(fieldError.typeInvalid(p, vol, 'must be an object'));
      return;
    }
    let count = 0;
    for (const kind of VOLUME_SOURCES) {
      if (vol[kind] === undefined || vol[kind] === null) continue;
      if (count > 0) errs.push(fieldError.forbidden(`${p}.${kind}`, 'may not specify more than 1 volume type'));
      else errs.push(...validateSource(kind, vol[kind], `${p}.${kind}`));
      count++;
    }
    if (count === 0) errs.push(fieldError.required(p, 'must specify a volume type'));
    const name = vol.name;
    if (typeof name !== 'string' || name === '') errs.push(fieldError.required(`${p}.name`, ''));
    else for (const m of isDNS1123Label(name)) errs.push(fieldError.invalid(`${p}.name`, name, m));
    if (typeof name === 'string' && name !== '') {
      if (names.has(name)) errs.push(fieldError.duplicate(`${p}.name`, name));
      names.add(name);
    }
  });
  return { errs, names };
}
