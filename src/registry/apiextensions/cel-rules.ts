/**
 * `x-kubernetes-validations`: CEL rules of a CRD schema, compiled when the CRD is written (a rule
 * that does not compile refuses the CRD) and evaluated on every write of a custom object with `self`
 * (and `oldSelf` for transition rules, on updates where the old value exists). A rule that cannot be
 * evaluated (a missing field, a type mismatch) is reported as a warning, never skipped silently.
 * Upstream: apiextensions-apiserver pkg/apiserver/schema/cel (compilation.go, validation.go); the CEL
 * evaluator is @bufbuild/cel with its strings extension.
 */
import { createRequire } from 'node:module';
import type * as Cel from '@bufbuild/cel';
import type * as CelExt from '@bufbuild/cel/ext';
import type { CelEnv, CelResult } from '@bufbuild/cel';
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import { additionalSchema, child, index, isObject, key, type JSONSchemaProps, type ValidationRule } from './schema.ts';

type Program = (vars: { self: unknown; oldSelf: unknown }) => CelResult;

/**
 * The evaluator, loaded when the first rule is compiled (its CommonJS build: validation is
 * synchronous): loading it took ~180 ms and ~15 MB of RSS (2026-12-07), which every `berth server`
 * paid at start though only CRDs with x-kubernetes-validations need it.
 */
let lib: { cel: typeof Cel; ext: typeof CelExt } | undefined;
function celLib(): { cel: typeof Cel; ext: typeof CelExt } {
  if (!lib) {
    const load = createRequire(import.meta.url);
    lib = { cel: load('@bufbuild/cel') as typeof Cel, ext: load('@bufbuild/cel/ext') as typeof CelExt };
  }
  return lib;
}

let env: CelEnv | undefined;
function celEnvironment(): CelEnv {
  const { cel, ext } = celLib();
  env ??= cel.celEnv({ variables: { self: cel.CelScalar.DYN, oldSelf: cel.CelScalar.DYN }, funcs: ext.strings as never }) as unknown as CelEnv;
  return env;
}

const compiled = new Map<string, Program | Error>();

/** The program of an expression, or the Error parsing it gave (cached either way). */
export function compile(expr: string): Program | Error {
  let p = compiled.get(expr);
  if (!p) {
    try {
      const environment = celEnvironment();
      p = celLib().cel.plan(environment as never, celLib().cel.parse(expr)) as unknown as Program;
    } catch (e) {
      p = e instanceof Error ? e : new Error(String(e));
    }
    if (compiled.size > 5000) compiled.clear();
    compiled.set(expr, p);
  }
  return p;
}

/** A transition rule compares with the old value; it runs only on updates that have one. */
export function isTransitionRule(rule: ValidationRule): boolean {
  return /\boldSelf\b/.test(rule.rule);
}

/** Errors for rules (and messageExpressions) that do not compile, anywhere in `schema` at `path`. */
export function compileErrors(schema: JSONSchemaProps, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const walk = (s: JSONSchemaProps | undefined, p: string) => {
    if (!s || typeof s !== 'object') return;
    (s['x-kubernetes-validations'] ?? []).forEach((r, i) => {
      const at = index(child(p, 'x-kubernetes-validations'), i);
      if (typeof r?.rule !== 'string' || !r.rule.trim()) { errs.push(fieldError.required(child(at, 'rule'))); return; }
      const prog = compile(r.rule);
      if (prog instanceof Error) errs.push(fieldError.invalid(child(at, 'rule'), r.rule, `compilation failed: ${prog.message}`));
      if (r.messageExpression !== undefined) {
        const m = compile(r.messageExpression);
        if (m instanceof Error) errs.push(fieldError.invalid(child(at, 'messageExpression'), r.messageExpression, `messageExpression compilation failed: ${m.message}`));
      }
      if (r.message !== undefined && /[\r\n]/.test(r.message)) errs.push(fieldError.invalid(child(at, 'message'), r.message, 'message must not contain line breaks'));
      if (r.reason !== undefined && !['FieldValueInvalid', 'FieldValueForbidden', 'FieldValueRequired', 'FieldValueDuplicate'].includes(r.reason)) {
        errs.push(fieldError.notSupported(child(at, 'reason'), r.reason, ['FieldValueDuplicate', 'FieldValueForbidden', 'FieldValueInvalid', 'FieldValueRequired']));
      }
    });
    walk(s.items, child(p, 'items'));
    for (const [k, v] of Object.entries(s.properties ?? {})) walk(v, key(child(p, 'properties'), k));
    if (typeof s.additionalProperties === 'object') walk(s.additionalProperties, child(p, 'additionalProperties'));
  };
  walk(schema, path);
  return errs;
}

/** JSON → CEL values: integers of integer-typed fields are CEL ints (bigint), other numbers doubles. */
export function toCel(schema: JSONSchemaProps | undefined, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return (schema?.type === 'integer' || schema?.['x-kubernetes-int-or-string']) && Number.isInteger(v) ? BigInt(v) : v;
  if (Array.isArray(v)) return v.map((x) => toCel(schema?.items, x));
  if (isObject(v)) {
    const extra = schema && additionalSchema(schema);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = toCel(schema?.properties?.[k] ?? extra, x);
    return out;
  }
  return v;
}

function celTypeName(s: JSONSchemaProps): string {
  return s.type ?? (s['x-kubernetes-int-or-string'] ? 'string' : 'object');
}

function failure(rule: ValidationRule, s: JSONSchemaProps, path: string, message: string): FieldError {
  const at = rule.fieldPath ? path + (rule.fieldPath.startsWith('.') || rule.fieldPath.startsWith('[') ? rule.fieldPath : `.${rule.fieldPath}`) : path;
  switch (rule.reason) {
    case 'FieldValueForbidden': return fieldError.forbidden(at, message);
    case 'FieldValueRequired': return fieldError.required(at, message);
    case 'FieldValueDuplicate': return { type: 'FieldValueDuplicate', field: at, message: `Duplicate value: ${message}` };
    default: return fieldError.invalid(at, celTypeName(s), message);
  }
}

/**
 * Evaluates every rule of `schema` over `value` (and `old`, the stored value on an update). Failed
 * rules are field errors; rules that could not be evaluated are warnings.
 */
export function evaluateRules(schema: JSONSchemaProps, value: unknown, old: unknown, path: string, errs: FieldError[], warnings: string[]): void {
  if (value === undefined || value === null) return;
  const rules = schema['x-kubernetes-validations'];
  if (rules?.length) {
    const self = toCel(schema, value);
    const oldSelf = old === undefined ? undefined : toCel(schema, old);
    for (const rule of rules) {
      if (isTransitionRule(rule) && oldSelf === undefined && !rule.optionalOldSelf) continue;
      const prog = compile(rule.rule);
      const where = path || '<root>';
      if (prog instanceof Error) { warnings.push(`${where}: the validation rule ${JSON.stringify(rule.rule)} could not be compiled: ${prog.message}`); continue; }
      let result: CelResult;
      try { result = prog({ self, oldSelf: oldSelf ?? null }); } catch (e) { result = e as CelResult; }
      if (celLib().cel.isCelError(result) || result instanceof Error) {
        warnings.push(`${where}: the validation rule ${JSON.stringify(rule.rule)} could not be evaluated: ${(result as Error).message}`);
        continue;
      }
      if (result === true) continue;
      if (result !== false) { warnings.push(`${where}: the validation rule ${JSON.stringify(rule.rule)} did not evaluate to a bool`); continue; }
      errs.push(failure(rule, schema, path, ruleMessage(rule, self, oldSelf)));
    }
  }
  if (Array.isArray(value) && schema.items) {
    const keys = schema['x-kubernetes-list-type'] === 'map' ? schema['x-kubernetes-list-map-keys'] ?? [] : undefined;
    const oldItems = Array.isArray(old) && keys ? old : [];
    value.forEach((item, i) => {
      const match = keys && isObject(item) ? oldItems.find((o) => isObject(o) && keys.every((k) => o[k] === item[k])) : undefined;
      evaluateRules(schema.items!, item, match, index(path, i), errs, warnings);
    });
  } else if (isObject(value)) {
    const extra = additionalSchema(schema);
    const o = isObject(old) ? old : undefined;
    for (const [k, v] of Object.entries(value)) {
      const p = schema.properties?.[k];
      if (p) evaluateRules(p, v, o?.[k], child(path, k), errs, warnings);
      else if (extra) evaluateRules(extra, v, o?.[k], key(path, k), errs, warnings);
    }
  }
}

function ruleMessage(rule: ValidationRule, self: unknown, oldSelf: unknown): string {
  if (rule.messageExpression) {
    const m = compile(rule.messageExpression);
    if (!(m instanceof Error)) {
      try {
        const r = m({ self, oldSelf: oldSelf ?? null });
        if (typeof r === 'string' && r.trim() && !/[\r\n]/.test(r)) return r;
      } catch { /* the static message or the rule below */ }
    }
  }
  return rule.message ?? `failed rule: ${rule.rule}`;
}
