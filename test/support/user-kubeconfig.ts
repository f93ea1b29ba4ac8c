/**
 * Kubeconfigs for other users of a running test server: a client certificate for `user` (CN) in
 * `groups` (O), signed by the server's cluster CA (DATA/pki/ca.*) — how an administrator hands a
 * person a credential — written beside the admin kubeconfig. kubectl then acts as that user.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { issueCertificate } from '../../src/pki/certificates.ts';
import { writeKubeconfig } from '../../src/server/kubeconfig.ts';

/** Writes DATA/<user>.kubeconfig for `user` in `groups` and returns its path. */
export async function userKubeconfig(dataDir: string, serverUrl: string, user: string, groups: string[] = []): Promise<string> {
  const ca = { cert: readFileSync(path.join(dataDir, 'pki', 'ca.crt'), 'utf8'), key: readFileSync(path.join(dataDir, 'pki', 'ca.key'), 'utf8') };
  const leaf = await issueCertificate(ca, { commonName: user, organizations: groups, usage: 'client', validityDays: 1 });
  const file = path.join(dataDir, `${user.replace(/[^a-zA-Z0-9.-]/g, '_')}.kubeconfig`);
  writeKubeconfig(file, serverUrl, { ca: ca.cert, cert: leaf.cert, key: leaf.key });
  return file;
}
