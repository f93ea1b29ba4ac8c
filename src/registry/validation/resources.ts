/**
 * Resource quantities (k8s.io/apimachinery/pkg/api/resource) and container resource requirements
 * validation (pkg/apis/core/validation ValidateResourceRequirements). `parseQuantity` is exported for
 * the scheduler and QoS computation: it returns the value in base units (cores, bytes).
 */
import { fieldError, type FieldError } from '../field-errors.ts';
import { isQualifiedName } from './names.ts';
import { NEGATIVE_MSG } from './fields.ts';

/** The message the API server gives for a malformed quantity. */
export const QUANTITY_MSG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)$/;
const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

function scale(n: number, exp: number): number {
  // Dividing by an exact power of ten keeps "100m" and "0.1" bit-identical.
  return exp >= 0 ? n * 10 ** exp : n / 10 ** -exp;
}

/** Parses a quantity ("500m", "1.5Gi", "2", "1e3", or a JSON number); undefined when malformed. */
export function tryParseQuantity(q: unknown): number | undefined {
  if (typeof q === 'number') return Number.isFinite(q) ? q : undefined;
  if (typeof q !== 'string') return undefined;
  const m = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/.exec(q);
  if (!m || !NUMBER.test(m[1])) return undefined;
  const n = Number(m[1]);
  const suffix = m[2];
  if (suffix in BINARY) return n * BINARY[suffix];
  if (suffix in DECIMAL) return scale(n, DECIMAL[suffix]);
  const e = /^[eE]([-+]?\d+)$/.exec(suffix);
  if (e) return scale(n, Number(e[1]));
  return undefined;
}

/** Parses a quantity, throwing on malformed input. */
export function parseQuantity(q: string | number): number {
  const v = tryParseQuantity(q);
  if (v === undefined) throw new Error(`${QUANTITY_MSG}: ${JSON.stringify(q)}`);
  return v;
}

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
