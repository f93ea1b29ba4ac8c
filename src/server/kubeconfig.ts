/**
 * The admin kubeconfig `berth server` / `berth up` write to DATA_DIR/kubeconfig: the one way in for
 * kubectl and client libraries. Plain HTTP on loopback until the cluster-security work adds TLS and
 * credentials; the file stays the entry point, so nothing else changes then.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify } from 'yaml';

export function kubeconfigYaml(serverUrl: string, clusterName = 'berth'): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    // client libraries such as @kubernetes/client-node refuse plain http unless TLS checks are off
    // explicitly; kubectl ignores the flag for http. (TLS comes with the cluster-security work.)
    clusters: [{ name: clusterName, cluster: serverUrl.startsWith('http:') ? { server: serverUrl, 'insecure-skip-tls-verify': true } : { server: serverUrl } }],
    users: [{ name: 'admin', user: {} }],
    contexts: [{ name: clusterName, context: { cluster: clusterName, user: 'admin', namespace: 'default' } }],
    'current-context': clusterName,
    preferences: {},
  });
}

/** Writes atomically (temp file + rename) with mode 0600. */
export function writeKubeconfig(path: string, serverUrl: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, kubeconfigYaml(serverUrl), { mode: 0o600 });
  renameSync(tmp, path);
}
