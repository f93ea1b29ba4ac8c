/**
 * `--encryption-provider-config FILE`: kube-apiserver's EncryptionConfiguration
 * (apiserver.config.k8s.io/v1), validated as apiserver's validation_encryption.go does — which
 * resources are encrypted at rest, and with which providers in order (`aescbc`, `aesgcm`,
 * `secretbox` with base64 keys; `identity`; `kms` is not supported). Resources are named
 * `secrets`, `deployments.apps`, `*.apps`, `*.` (every core resource) or `*.*`; for one resource
 * an exact name wins over its group's wildcard, which wins over `*.*`, and an earlier entry over a
 * later one.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import { aesCbc } from './aes-cbc.ts';
import { aesGcm } from './aes-gcm.ts';
import { secretbox } from './secretbox.ts';
import { ValueTransformer, type Cipher, type ProviderKey } from './value-transformer.ts';

export const ENCRYPTION_CONFIG_API_VERSION = 'apiserver.config.k8s.io/v1';
export const ENCRYPTION_CONFIG_KIND = 'EncryptionConfiguration';

const CIPHERS: Record<string, { sizes: number[]; make: (key: Buffer) => Cipher }> = {
  aescbc: { sizes: [16, 24, 32], make: aesCbc },
  aesgcm: { sizes: [16, 24, 32], make: aesGcm },
  secretbox: { sizes: [32], make: secretbox },
};
const PROVIDERS = ['aescbc', 'aesgcm', 'secretbox', 'identity', 'kms'];

/** One entry of `resources`: the resources it names and their transformer. */
export interface EncryptionRule {
  resources: string[];
  transformer: ValueTransformer;
}

export interface EncryptionConfig {
  rules: EncryptionRule[];
  /** The transformer for `group`'s `resource` (core: group ''), or undefined: stored in clear. */
  transformerFor(group: string, resource: string): ValueTransformer | undefined;
}

type Rec = Record<string, any>;

/** `secrets` → ('', secrets); `deployments.apps` → (apps, deployments); `*.` → ('', *). */
function parseGroupResource(s: string): { group: string; resource: string } {
  const i = s.indexOf('.');
  return i < 0 ? { group: '', resource: s } : { group: s.slice(i + 1), resource: s.slice(0, i) };
}

function validateResources(list: string[], path: string, errs: FieldError[]): void {
  // Duplicates and overlaps first, then each name, as upstream reports them.
  if (list.length > 1) {
    const grs = list.map(parseGroupResource);
    const key = (g: { group: string; resource: string }) => `${g.group}/${g.resource}`;
    if (new Set(grs.map(key)).size !== grs.length) errs.push(fieldError.invalid(path, list, 'the same resource cannot be specified multiple times'));
    const overlap = grs.some((a, i) => grs.some((b, j) => i !== j && key(a) !== key(b)
      && ((a.group === '*' && a.resource === '*') || (a.group === b.group && (a.resource === '*' || b.resource === '*')))));
    if (overlap) errs.push(fieldError.invalid(path, list, "using overlapping resources such as 'secrets' and '*.' in the same resource list is not allowed as they will be masked"));
  }
  list.forEach((r, j) => {
    const at = `${path}[${j}]`;
    const gr = parseGroupResource(r);
    if (r.toLowerCase() !== r) errs.push(fieldError.invalid(at, r, 'resource name should not contain capital letters'));
    else if (r === '*') errs.push(fieldError.invalid(at, r, "use '*.' to encrypt all the resources from core API group or *.* to encrypt all resources"));
    else if (['apiserveripinfo', 'serviceipallocations', 'servicenodeportallocations'].includes(r)) errs.push(fieldError.invalid(at, r, 'resources which do not have REST API/s cannot be encrypted'));
    else if (gr.group === 'events.k8s.io') errs.push(fieldError.invalid(at, r, "'*.events.k8s.io' objects are stored using the 'events' API group in etcd. Use 'events' instead in the config file"));
    else if (gr.group === 'extensions') errs.push(fieldError.invalid(at, r, "'extensions' group has been removed and cannot be used for encryption"));
    else if (gr.group === '*' && gr.resource !== '*') errs.push(fieldError.invalid(at, r, 'encrypting the same resource across groups is not supported'));
  });
}

function providerKeys(p: Rec, path: string, errs: FieldError[]): ProviderKey[] {
  const names = PROVIDERS.filter((n) => p && typeof p === 'object' && p[n] != null);
  if (names.length === 0) {
    errs.push(fieldError.invalid(path, '', 'provider does not contain any of the expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity'));
    return [];
  }
  if (names.length > 1) {
    errs.push(fieldError.invalid(path, '', 'more than one provider specified in a single element, should split into different list elements'));
    return [];
  }
  const provider = names[0];
  if (provider === 'identity') return [{ provider, name: '' }];
  if (provider === 'kms') {
    errs.push(fieldError.invalid(`${path}.kms`, '', 'KMS providers are not supported by Berth: use aescbc, aesgcm or secretbox'));
    return [];
  }
  const { sizes, make } = CIPHERS[provider];
  const keysPath = `${path}.${provider}.keys`;
  const keys: unknown = p[provider]?.keys;
  if (!Array.isArray(keys) || keys.length === 0) {
    errs.push(fieldError.required(keysPath, 'at least one keys is required'));
    return [];
  }
  const out: ProviderKey[] = [];
  keys.forEach((k: Rec, i: number) => {
    const at = `${keysPath}[${i}]`;
    const name = typeof k?.name === 'string' ? k.name : '';
    const secret = typeof k?.secret === 'string' ? k.secret : '';
    if (!name) errs.push(fieldError.required(`${at}.name`, 'name is a mandatory field for a key'));
    else if (name.includes(':')) errs.push(fieldError.invalid(`${at}.name`, name, "must not contain ':'"));
    if (!secret) { errs.push(fieldError.required(`${at}.secret`, 'secret is a mandatory field for a key')); return; }
    // Values of secrets are never echoed in errors (Kubernetes prints REDACTED).
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(secret) || secret.length % 4 !== 0) { errs.push(fieldError.invalid(`${at}.secret`, 'REDACTED', 'secrets must be base64 encoded')); return; }
    const bytes = Buffer.from(secret, 'base64');
    if (!sizes.includes(bytes.length)) { errs.push(fieldError.invalid(`${at}.secret`, 'REDACTED', `secret is not of the expected length, got ${bytes.length}, expected one of [${sizes.join(' ')}]`)); return; }
    if (name && !name.includes(':')) out.push({ provider, name, cipher: make(bytes) });
  });
  return out;
}

/** The configuration from a parsed document, or its field errors (never with a key in them). */
export function parseEncryptionConfig(doc: unknown): { config?: EncryptionConfig; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const d = (doc && typeof doc === 'object' ? doc : {}) as Rec;
  if (d.apiVersion !== ENCRYPTION_CONFIG_API_VERSION) errors.push(fieldError.notSupported('apiVersion', d.apiVersion, [ENCRYPTION_CONFIG_API_VERSION]));
  if (d.kind !== ENCRYPTION_CONFIG_KIND) errors.push(fieldError.notSupported('kind', d.kind, [ENCRYPTION_CONFIG_KIND]));
  if (!Array.isArray(d.resources) || d.resources.length === 0) {
    errors.push(fieldError.required('resources', 'at least one resources is required'));
    return { errors };
  }
  const rules: EncryptionRule[] = [];
  d.resources.forEach((entry: Rec, i: number) => {
    const rPath = `resources[${i}].resources`;
    const pPath = `resources[${i}].providers`;
    const resources: string[] = Array.isArray(entry?.resources) ? entry.resources.map(String) : [];
    if (!resources.length) errors.push(fieldError.required(rPath, `at least one ${rPath} is required`));
    validateResources(resources, rPath, errors);
    const providers: Rec[] = Array.isArray(entry?.providers) ? entry.providers : [];
    if (!providers.length) errors.push(fieldError.required(pPath, `at least one ${pPath} is required`));
    const keys = providers.flatMap((p, j) => providerKeys(p, `${pPath}[${j}]`, errors));
    if (keys.length) rules.push({ resources, transformer: new ValueTransformer(keys) });
  });
  if (errors.length) return { errors };
  return { config: configFrom(rules), errors };
}

function configFrom(rules: EncryptionRule[]): EncryptionConfig {
  const lookup = new Map<string, ValueTransformer>();
  for (const rule of rules) {
    for (const r of rule.resources) {
      const { group, resource } = parseGroupResource(r);
      const k = `${group}/${resource}`;
      if (!lookup.has(k)) lookup.set(k, rule.transformer);
    }
  }
  return {
    rules,
    transformerFor: (group, resource) => lookup.get(`${group}/${resource}`) ?? lookup.get(`${group}/*`) ?? lookup.get('*/*'),
  };
}

/** Reads and validates FILE; throws one error naming every bad field. */
export function loadEncryptionConfig(path: string): EncryptionConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`encryption provider config: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    // The parser's message quotes the line, which may hold a key: say only where.
    const e = err as { code?: string; linePos?: { line: number; col: number }[] };
    const at = e.linePos?.[0] ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
    throw new Error(`encryption provider config ${path}: ${e.code ? `invalid YAML (${e.code})${at}` : (err as Error).message}`);
  }
  const { config, errors } = parseEncryptionConfig(doc);
  if (!config) throw new Error(`encryption provider config ${path}: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`);
  return config;
}
