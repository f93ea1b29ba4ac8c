/**
 * Pod Security's configuration (pod-security.admission.config.k8s.io/v1 PodSecurityConfiguration,
 * admission/api/validation upstream): the policy of namespaces without labels (`defaults`, each mode
 * `privileged:latest` when unset, as Kubernetes') and the requests it never looks at (`exemptions`:
 * usernames, namespaces, runtimeClasses).
 */
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import { isDNS1123Label, isDNS1123Subdomain } from '../../apis/names.ts';
import { MODES, parseLevel, parseVersion, PRIVILEGED_POLICY, type Level, type Policy, type Version } from './policy-level.ts';

export const CONFIG_API_VERSIONS = ['pod-security.admission.config.k8s.io/v1', 'pod-security.admission.config.k8s.io/v1beta1'];
export const CONFIG_KIND = 'PodSecurityConfiguration';

export interface PodSecurityConfiguration {
  defaults: Policy;
  exemptions: { usernames: string[]; namespaces: string[]; runtimeClasses: string[] };
}

export const DEFAULT_CONFIGURATION: PodSecurityConfiguration = Object.freeze({
  defaults: PRIVILEGED_POLICY,
  exemptions: { usernames: [], namespaces: [], runtimeClasses: [] },
});

function strings(v: unknown, path: string, errs: FieldError[]): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    errs.push(fieldError.typeInvalid(path, v, 'expected a list of strings'));
    return [];
  }
  return v;
}

function exemptionList(v: unknown, path: string, check: (s: string) => string[], errs: FieldError[]): string[] {
  const seen = new Set<string>();
  strings(v, path, errs).forEach((s, i) => {
    const problems = check(s);
    if (problems.length) errs.push(fieldError.invalid(`${path}[${i}]`, s, problems.join(', ')));
    else if (seen.has(s)) errs.push(fieldError.duplicate(`${path}[${i}]`, s));
    seen.add(s);
  });
  return [...seen];
}

/** The configuration from a parsed document, or its field errors. */
export function parseConfiguration(doc: unknown): { config: PodSecurityConfiguration; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const d = (doc && typeof doc === 'object' ? doc : {}) as Record<string, any>;
  if (!CONFIG_API_VERSIONS.includes(d.apiVersion)) errors.push(fieldError.notSupported('apiVersion', d.apiVersion, CONFIG_API_VERSIONS));
  if (d.kind !== CONFIG_KIND) errors.push(fieldError.notSupported('kind', d.kind, [CONFIG_KIND]));
  const defaults = (d.defaults && typeof d.defaults === 'object' ? d.defaults : {}) as Record<string, unknown>;
  const policy: Policy = structuredClone(PRIVILEGED_POLICY);
  for (const mode of MODES) {
    const lv = defaults[mode] ?? 'privileged';
    const level = parseLevel(String(lv));
    if (level instanceof Error) errors.push(fieldError.invalid(`defaults.${mode}`, lv, level.message));
    else policy[mode].level = level as Level;
    const vv = defaults[`${mode}-version`] ?? 'latest';
    const ver = parseVersion(String(vv));
    if (ver instanceof Error) errors.push(fieldError.invalid(`defaults.${mode}-version`, vv, ver.message));
    else policy[mode].version = ver as Version;
  }
  const ex = (d.exemptions && typeof d.exemptions === 'object' ? d.exemptions : {}) as Record<string, unknown>;
  const usernames = strings(ex.usernames, 'exemptions.usernames', errors);
  usernames.forEach((u, i) => { if (!u) errors.push(fieldError.invalid(`exemptions.usernames[${i}]`, u, 'username must not be empty')); });
  const config: PodSecurityConfiguration = {
    defaults: policy,
    exemptions: {
      usernames: [...new Set(usernames)],
      namespaces: exemptionList(ex.namespaces, 'exemptions.namespaces', isDNS1123Label, errors),
      runtimeClasses: exemptionList(ex.runtimeClasses, 'exemptions.runtimeClasses', isDNS1123Subdomain, errors),
    },
  };
  return { config, errors };
}
