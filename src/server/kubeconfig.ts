/**
 * The admin kubeconfig `berth server` / `berth up` write to DATA_DIR/kubeconfig: the one way in for
 * kubectl and client libraries. The cluster CA and the admin client certificate (system:masters)
 * are inline, so the file alone is the credential — keep it 0600, as kubeadm's admin.conf.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify } from 'yaml';

/** What a kubeconfig carries besides the server URL. */
export interface KubeconfigCredentials {
  /** The CA bundle (PEM) that signed the server's certificate. */
  ca: string;
  /** A client certificate and key (PEM), or a bearer token. */
  cert?: string;
  key?: string;
  token?: string;
  user?: string;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

export function kubeconfigYaml(serverUrl: string, creds: KubeconfigCredentials, clusterName = 'berth'): string {
  const userName = creds.user ?? 'admin';
  const user: Record<string, string> = {};
  if (creds.cert && creds.key) {
    user['client-certificate-data'] = b64(creds.cert);
    user['client-key-data'] = b64(creds.key);
  }
  if (creds.token) user.token = creds.token;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: clusterName, cluster: { server: serverUrl, 'certificate-authority-data': b64(creds.ca) } }],
    users: [{ name: userName, user }],
    contexts: [{ name: clusterName, context: { cluster: clusterName, user: userName, namespace: 'default' } }],
    'current-context': clusterName,
    preferences: {},
  });
}

/** Writes atomically (temp file + rename) with mode 0600. */
export function writeKubeconfig(path: string, serverUrl: string, creds: KubeconfigCredentials): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, kubeconfigYaml(serverUrl, creds), { mode: 0o600 });
  renameSync(tmp, path);
}
