/**
 * Container resource requirements validation (pkg/apis/core/validation ValidateResourceRequirements);
 * quantities themselves are parsed by apis/quantity.ts.
 */
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import { isQualifiedName } from '../../apis/names.ts';
import { NEGATIVE_MSG } from './fields.ts';
import { QUANTITY_MSG, tryParseQuantity } from '../../apis/quantity.ts';

const STANDARD_CONTAINER = new Set(['cpu', 'memory', 'ephemeral-storage']);

function isHugePages(name: string): boolean {
  return name.startsWith('hugepages-');
}

/** cpu, memory and ephemeral-storage may have requests below limits; the rest must match exactly. */
function overcommitAllowed(name: string): boolean {
  return STANDARD_CONTAINER.has(name) || (name.startsWith('kubernetes.io/') && !isHugePages(name));
}

function validateResourceName(name: string, path: string): FieldError[] {
  const errs = isQualifiedName(name).map((m) => fieldError.invalid(path, name, m));
  if (!name.includes('/')) {
    if (!STANDARD_CONTAINER.has(name) && !isHugePages(name)) {
      errs.push(fieldError.invalid(path, name, 'must be a standard resource for containers'));
    }
  }
  return errs;
}

function validateQuantity(name: string, q: unknown, path: string): { errs: FieldError[]; value?: number } {
  const value = tryParseQuantity(q);
  if (value === undefined) return { errs: [fieldError.invalid(path, q, QUANTITY_MSG)] };
  const errs: FieldError[] = [];
  if (value < 0) errs.push(fieldError.invalid(path, String(q), NEGATIVE_MSG));
  // Extended and huge-page resources are counted in whole units.
  if (!STANDARD_CONTAINER.has(name) && !isHugePages(name) && !Number.isInteger(value)) {
    errs.push(fieldError.invalid(path, String(q), 'must be an integer'));
  }
  return { errs, value };
}

/** Validates a container's `resources` (limits, requests, request ≤ limit). `path` ends in `.resources`. */
export function validateResourceRequirements(res: unknown, path: string): FieldError[] {
  if (res === undefined || res === null) return [];
  if (typeof res !== 'object' || Array.isArray(res)) return [fieldError.typeInvalid(path, res, 'must be an object')];
  const r = res as Record<string, any>;
  const errs: FieldError[] = [];
  const limits: Record<string, number> = {};
  const limPath = `${path}.limits`;
  const reqPath = `${path}.requests`;
  for (const [name, q] of Object.entries((r.limits ?? {}) as Record<string, unknown>)) {
    const p = `${limPath}[${name}]`;
    errs.push(...validateResourceName(name, p));
    const { errs: qe, value } = validateQuantity(name, q, p);
    errs.push(...qe);
    if (value !== undefined) limits[name] = value;
  }
  for (const [name, q] of Object.entries((r.requests ?? {}) as Record<string, unknown>)) {
    const p = `${reqPath}[${name}]`;
    errs.push(...validateResourceName(name, p));
    const { errs: qe, value } = validateQuantity(name, q, p);
    errs.push(...qe);
    if (value === undefined) continue;
    const limitRaw = r.limits?.[name];
    if (name in limits) {
      if (!overcommitAllowed(name) && value !== limits[name]) {
        errs.push(fieldError.invalid(reqPath, String(q), `must be equal to ${name} limit of ${String(limitRaw)}`));
      } else if (value > limits[name]) {
        errs.push(fieldError.invalid(reqPath, String(q), `must be less than or equal to ${name} limit of ${String(limitRaw)}`));
      }
    } else if (!overcommitAllowed(name) && limitRaw === undefined) {
      errs.push(fieldError.required(limPath, 'Limit must be set for non overcommitable resources'));
    }
  }
  return errs;
}
