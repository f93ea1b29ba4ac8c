/**
 * The security part for Pod Security admission (kube-apiserver's PodSecurity plugin): privileged /
 * baseline / restricted by namespace labels, with Berth's process pods counted as host processes
 * (src/registry/admission/pod-security.ts, checks in src/auth/pod-security/).
 *
 * Its configuration is DATA/pod-security.yaml when present — a PodSecurityConfiguration
 * (pod-security.admission.config.k8s.io/v1: defaults for unlabelled namespaces, exemptions by
 * username, namespace and RuntimeClass); without it every unlabelled namespace is privileged, as in
 * Kubernetes. A file that does not parse stops the server from starting.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { DEFAULT_CONFIGURATION, parseConfiguration, type PodSecurityConfiguration } from '../../../auth/pod-security/configuration.ts';
import { podSecurityAdmission, registryLookups } from '../../../registry/admission/pod-security.ts';
import type { SecurityPart } from '../security-part.ts';

/** The configuration file's name in the data dir. */
export const POD_SECURITY_CONFIG_FILE = 'pod-security.yaml';

/** The configuration in `dataDir`, the default without one; throws naming every bad field. */
export function loadPodSecurityConfiguration(dataDir: string): PodSecurityConfiguration {
  const path = join(dataDir, POD_SECURITY_CONFIG_FILE);
  if (!existsSync(path)) return DEFAULT_CONFIGURATION;
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
  const { config, errors } = parseConfiguration(doc);
  if (errors.length) throw new Error(`${path}: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`);
  return config;
}

export const podSecurityPart: SecurityPart = {
  name: 'pod-security',
  admission: (ctx) => [podSecurityAdmission({
    config: loadPodSecurityConfiguration(ctx.dataDir),
    lookups: registryLookups(ctx.registry),
    log: ctx.log.child({ part: 'pod-security' }),
  })],
};
