/**
 * Pod Security levels, policy versions and a namespace's policy from its labels — the vocabulary of
 * k8s.io/pod-security-admission/api (constants.go, helpers.go): `privileged | baseline | restricted`,
 * `latest | v1.N`, and `pod-security.kubernetes.io/{enforce,audit,warn}[-version]` labels resolved
 * over the configured defaults.
 */
import { fieldError, type FieldError } from '../../apis/field-errors.ts';

export type Level = 'privileged' | 'baseline' | 'restricted';
export const LEVELS: readonly Level[] = ['privileged', 'baseline', 'restricted'];

/** A policy version: `latest` or 1.minor (only major 1 exists). */
export type Version = { latest: true } | { latest: false; minor: number };
export const LATEST: Version = Object.freeze({ latest: true });

export function version(minor: number): Version {
  return { latest: false, minor };
}

export function versionString(v: Version): string {
  return v.latest ? 'latest' : `v1.${v.minor}`;
}

/** a < b; `latest` is newer than every numbered version. */
export function olderThan(a: Version, b: Version): boolean {
  if (a.latest) return false;
  if (b.latest) return true;
  return a.minor < b.minor;
}

export interface LevelVersion {
  level: Level;
  version: Version;
}

/** `baseline:latest`, `restricted:v1.25` — the form messages and audit annotations use. */
export function levelVersionString(lv: LevelVersion): string {
  return `${lv.level}:${versionString(lv.version)}`;
}

/** Both privileged, or the same level and version (api.LevelVersion.Equivalent). */
export function equivalent(a: LevelVersion, b: LevelVersion): boolean {
  return (a.level === 'privileged' && b.level === 'privileged') || levelVersionString(a) === levelVersionString(b);
}

export interface Policy {
  enforce: LevelVersion;
  audit: LevelVersion;
  warn: LevelVersion;
}

export const MODES = ['enforce', 'audit', 'warn'] as const;
export type Mode = typeof MODES[number];

export const LABEL_PREFIX = 'pod-security.kubernetes.io/';
export const levelLabel = (m: Mode) => `${LABEL_PREFIX}${m}`;
export const versionLabel = (m: Mode) => `${LABEL_PREFIX}${m}-version`;

export function fullyPrivileged(p: Policy): boolean {
  return p.enforce.level === 'privileged' && p.audit.level === 'privileged' && p.warn.level === 'privileged';
}

/** -1 if a is less strict than b, 0 if equal, 1 if stricter (api.CompareLevels). */
export function compareLevels(a: Level, b: Level): number {
  return Math.sign(LEVELS.indexOf(a) - LEVELS.indexOf(b));
}

/** A level, or the error Kubernetes reports for a bad label value. */
export function parseLevel(s: string): Level | Error {
  return (LEVELS as readonly string[]).includes(s) ? s as Level : new Error(`must be one of ${LEVELS.join(', ')}`);
}

/** `latest` or `v1.N` (N without leading zeros). */
export function parseVersion(s: string): Version | Error {
  if (s === 'latest') return LATEST;
  const m = /^v1\.([0-9]|[1-9][0-9]*)$/.exec(s);
  if (!m || !Number.isSafeInteger(Number(m[1]))) return new Error('must be "latest" or "v1.x"');
  return version(Number(m[1]));
}

/** Kubernetes' default when nothing is configured: privileged, latest, for every mode. */
export const PRIVILEGED_POLICY: Policy = Object.freeze({
  enforce: { level: 'privileged', version: LATEST },
  audit: { level: 'privileged', version: LATEST },
  warn: { level: 'privileged', version: LATEST },
}) as Policy;

/**
 * A namespace's policy: its labels over `defaults` (api.PolicyToEvaluate). Always returns a usable
 * policy, with field errors for labels it could not read: a bad enforce level enforces `restricted`
 * (fail closed), bad audit and warn levels mean `privileged` (fail open), a bad version means
 * `latest`. An enforce level set stricter than the warn level also warns at it.
 */
export function policyToEvaluate(labels: Record<string, string> | undefined, defaults: Policy = PRIVILEGED_POLICY): { policy: Policy; errors: FieldError[] } {
  const p: Policy = { enforce: { ...defaults.enforce }, audit: { ...defaults.audit }, warn: { ...defaults.warn } };
  const errors: FieldError[] = [];
  if (!labels) return { policy: p, errors };
  const bad = (label: string, value: string, err: Error) => errors.push(fieldError.invalid(`metadata.labels[${label}]`, value, err.message));
  let hasEnforceLevel = false;
  for (const mode of MODES) {
    const lv = labels[levelLabel(mode)];
    if (lv !== undefined) {
      const level = parseLevel(lv);
      if (level instanceof Error) {
        bad(levelLabel(mode), lv, level);
        p[mode].level = mode === 'enforce' ? 'restricted' : 'privileged';
      } else {
        p[mode].level = level;
        if (mode === 'enforce') hasEnforceLevel = true;
      }
    }
    const vv = labels[versionLabel(mode)];
    if (vv !== undefined) {
      const v = parseVersion(vv);
      if (v instanceof Error) {
        bad(versionLabel(mode), vv, v);
        p[mode].version = LATEST;
      } else {
        p[mode].version = v;
      }
    }
  }
  if (labels[levelLabel('warn')] === undefined && hasEnforceLevel && compareLevels(p.enforce.level, p.warn.level) > 0) {
    p.warn.level = p.enforce.level;
    if (labels[versionLabel('warn')] === undefined) p.warn.version = p.enforce.version;
  }
  return { policy: p, errors };
}
