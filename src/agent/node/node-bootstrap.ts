/**
 * A node's first credential, from a join token (kubeadm join's discovery + the kubelet's TLS
 * bootstrap), and keeping it current (the kubelet's client certificate rotation):
 *
 *   1. discovery   TLS to the server without trusting it — for this one handshake only — to read the
 *                  CA it presents; its public key must hash to the token's pin, or nothing is sent
 *   2. bootstrap   with that CA trusted, a CSR for system:node:<name> (signer
 *                  kube-apiserver-client-kubelet) authenticated by the bootstrap token, which Berth
 *                  approves; the wait for its certificate
 *   3. files       <dir>/pki/client.{crt,key} and <dir>/kubeconfig naming them (CA inline), as
 *                  the kubelet's kubelet.conf names kubelet-client-current.pem
 *   4. rotation    before it expires, a CSR as the node itself (selfnodeclient); the files and the
 *                  running client switch to the new pair
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isIP } from 'node:net';
import tls, { type PeerCertificate } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { stringify } from 'yaml';
import { SIGNERS } from '../../apis/certificates.ts';
import type { JoinToken } from '../../auth/bootstrap/join-token.ts';
import { NODES_GROUP, nodeUser } from '../../auth/node/node-identity.ts';
import { HttpClient } from '../../client/http-client.ts';
import { SERVERS_EXTENSION } from '../../client/kubeconfig-load.ts';
import { httpCodeOf } from '../../client/errors.ts';
import { caPin, certificateInfo, issuedBy } from '../../pki/certificate-info.ts';
import type { KeyPairPem } from '../../pki/certificates.ts';
import type { Logger } from '../../util/log.ts';
import { CertificateManager } from './certificate-manager.ts';
import { requestCertificate } from './csr-request.ts';

const KUBELET_CLIENT_USAGES = ['digital signature', 'client auth'];

function toPem(c: PeerCertificate): string {
  return `-----BEGIN CERTIFICATE-----\n${c.raw.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
}

/** The server did not answer a TLS handshake (down, refused, unreachable). */
class UnreachableServerError extends Error {}

/** The certificates a server presents in its handshake, leaf first, without verifying any of them. */
function presentedChain(serverUrl: string, timeoutMs = 10_000): Promise<string[]> {
  const u = new URL(serverUrl);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port: Number(u.port || 443), servername: isIP(host) ? undefined : host, rejectUnauthorized: false, timeout: timeoutMs }, () => {
      const chain: string[] = [];
      let c: PeerCertificate & { issuerCertificate?: PeerCertificate } = socket.getPeerCertificate(true);
      const seen = new Set<string>();
      while (c?.raw && !seen.has(c.fingerprint256)) {
        seen.add(c.fingerprint256);
        chain.push(toPem(c));
        c = c.issuerCertificate as typeof c;
      }
      socket.end();
      resolve(chain);
    });
    socket.on('timeout', () => socket.destroy(new Error(`no TLS handshake with ${serverUrl} within ${timeoutMs} ms`)));
    socket.on('error', (err) => reject(new UnreachableServerError(`cannot reach ${serverUrl}: ${err.message}`)));
  });
}

/**
 * The cluster CA as the server presents it, accepted only if its public key hashes to `pin`
 * (kubeadm's --discovery-token-ca-cert-hash) and it issued the server's certificate.
 */
export async function discoverClusterCA(serverUrl: string, pin: string): Promise<string> {
  const chain = await presentedChain(serverUrl);
  if (!chain.length) throw new Error(`the server at ${serverUrl} presented no certificate`);
  const ca = chain.slice(1).find((c) => caPin(c) === pin);
  if (!ca) {
    const root = chain[chain.length - 1];
    const theirs = chain.length > 1 ? caPin(root) : `none presented; its certificate's issuer is ${new X509Certificate(root).issuer.replace(/\n/g, ', ')}`;
    throw new Error(`the server's CA (${theirs}) does not match the join token's (${pin})`);
  }
  if (!issuedBy(chain[0], ca)) throw new Error(`the server's certificate was not issued by the CA it presents (${pin})`);
  return ca;
}

/** Where a joined node keeps its credential, under the agent's data dir. */
export function nodeCredentialPaths(dir: string): { kubeconfig: string; cert: string; key: string; pki: string } {
  const pki = join(dir, 'pki');
  return { kubeconfig: join(dir, 'kubeconfig'), cert: join(pki, 'client.crt'), key: join(pki, 'client.key'), pki };
}

/**
 * The node's kubeconfig: the server, the CA inline, the client certificate and key by file (they
 * rotate). With several servers, `server` names the first and the cluster's servers.berth.dev
 * extension lists them all (the agent's client fails over between them; kubectl uses the first).
 */
export function writeNodeKubeconfig(dir: string, serverUrl: string, ca: string, nodeName: string, servers: string[] = [serverUrl]): string {
  const p = nodeCredentialPaths(dir);
  const user = nodeUser(nodeName);
  const all = [serverUrl, ...servers.filter((s) => s !== serverUrl)];
  const extensions = all.length > 1 ? { extensions: [{ name: SERVERS_EXTENSION, extension: { servers: all } }] } : {};
  const body = stringify({
    apiVersion: 'v1', kind: 'Config',
    clusters: [{ name: 'berth', cluster: { server: serverUrl, 'certificate-authority-data': Buffer.from(ca).toString('base64'), ...extensions } }],
    users: [{ name: user, user: { 'client-certificate': p.cert, 'client-key': p.key } }],
    contexts: [{ name: 'berth', context: { cluster: 'berth', user } }],
    'current-context': 'berth',
  });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(`${p.kubeconfig}.tmp`, body, { mode: 0o600 });
  renameSync(`${p.kubeconfig}.tmp`, p.kubeconfig);
  return p.kubeconfig;
}

/** A usable node credential already there: the kubeconfig, its files, a certificate of this CA for this node, unexpired. */
export function existingNodeCredential(dir: string, ca: string, nodeName: string): boolean {
  const p = nodeCredentialPaths(dir);
  if (![p.kubeconfig, p.cert, p.key].every((f) => existsSync(f))) return false;
  try {
    const cert = readFileSync(p.cert, 'utf8');
    return issuedBy(cert, ca) && certificateInfo(cert).commonName === nodeUser(nodeName);
  } catch {
    return false;
  }
}

export interface JoinOptions {
  /** The first server: the kubeconfig's `server`. */
  server: string;
  /** Every server of the cluster (`server` among them; default just it): discovery and the CSR use the first that answers. */
  servers?: string[];
  token: JoinToken;
  nodeName: string;
  /** The agent's data dir. */
  dir: string;
  log?: Logger;
  /** How long to wait for the certificate (default 15 min). */
  timeoutMs?: number;
  /** How long to keep trying when no server can be reached (default 30 s: a machine's network may still be coming up). */
  discoveryTimeoutMs?: number;
}

/** Steps 1–3: discovery, a node certificate by the bootstrap token, the files; returns the kubeconfig path. */
export async function joinCluster(o: JoinOptions): Promise<string> {
  const servers = [o.server, ...(o.servers ?? []).filter((s) => s !== o.server)];
  const { ca, server } = await discoverFromAny(servers, o.token.caPin, o.log, o.discoveryTimeoutMs ?? 30_000);
  o.log?.info('cluster CA verified', { server, ca: o.token.caPin });
  const p = nodeCredentialPaths(o.dir);
  if (existingNodeCredential(o.dir, ca, o.nodeName)) {
    o.log?.info('node credential already there', { kubeconfig: p.kubeconfig });
    // The server list may have changed since: the kubeconfig says the one given now.
    return writeNodeKubeconfig(o.dir, o.server, ca, o.nodeName, servers);
  }
  const bootstrap = new HttpClient({ server, servers, ca: Buffer.from(ca), token: `${o.token.token.id}.${o.token.token.secret}` });
  let pair: KeyPairPem;
  try {
    pair = await requestCertificate(bootstrap, {
      signerName: SIGNERS.kubeletClient, commonName: nodeUser(o.nodeName), organizations: [NODES_GROUP],
      usages: KUBELET_CLIENT_USAGES, generateName: 'node-csr-', timeoutMs: o.timeoutMs,
      onPending: (name) => o.log?.warn('node certificate request pending', { csr: name, approve: `kubectl certificate approve ${name}` }),
    });
  } catch (err) {
    if (httpCodeOf(err) === 401) throw new Error(`the server refused the join token ${o.token.token.id}.****: a wrong secret, or an expired or deleted token`);
    if (httpCodeOf(err) === 403) throw new Error(`the join token ${o.token.token.id}.**** may not request node certificates: ${(err as Error).message}`);
    if ((err as NodeJS.ErrnoException).code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      const host = new URL(o.server).hostname.replace(/^\[|\]$/g, '');
      throw new Error(`the server's certificate does not name ${host}: join by an address it names, or start the server with --tls-san ${host}`);
    }
    throw err;
  } finally {
    bootstrap.close();
  }
  mkdirSync(p.pki, { recursive: true, mode: 0o700 });
  for (const [path, body, mode] of [[p.key, pair.key, 0o600], [p.cert, pair.cert, 0o644]] as const) {
    writeFileSync(`${path}.tmp`, body, { mode });
    renameSync(`${path}.tmp`, path);
  }
  o.log?.info('node certificate issued', { node: o.nodeName, notAfter: certificateInfo(pair.cert).notAfter.toISOString() });
  return writeNodeKubeconfig(o.dir, o.server, ca, o.nodeName, servers);
}

/**
 * Discovery against the first server that can be reached (a server that is down is skipped; one
 * that answers with the wrong CA fails the join: a later one is not asked to overrule it).
 */
async function discoverFromAny(servers: string[], pin: string, log: Logger | undefined, timeoutMs: number): Promise<{ ca: string; server: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const unreachable: string[] = [];
    for (const server of servers) {
      try {
        return { ca: await discoverClusterCA(server, pin), server };
      } catch (err) {
        if (!(err instanceof UnreachableServerError)) throw err;
        unreachable.push(err.message);
        log?.warn(servers.length > 1 ? 'server unreachable; trying the next' : 'server unreachable; trying again', { server, error: err.message });
      }
    }
    // Down, or this machine's network not up yet (kubeadm and k3s keep retrying discovery too).
    if (Date.now() >= deadline) throw new Error(unreachable.length > 1 ? `no server could be reached: ${unreachable.join('; ')}` : unreachable[0]);
    await new Promise((r) => setTimeout(r, 1000));
  }
}


/**
 * Step 4, for a client whose kubeconfig is a joined node's (its certificate in `<dir>/pki/client.*`,
 * system:node:<name>): renews it by a CSR as the node and switches the client over. Undefined for
 * any other kubeconfig (an admin's, a token): nothing to rotate.
 */
export function clientCertificateRotation(client: HttpClient, kubeconfigPath: string, nodeName: string, log?: Logger): CertificateManager | undefined {
  const p = nodeCredentialPaths(dirname(kubeconfigPath));
  const cert = client.conn.cert?.toString();
  if (!cert || !existsSync(p.cert) || readFileSync(p.cert, 'utf8') !== cert) return undefined;
  if (certificateInfo(cert).commonName !== nodeUser(nodeName)) return undefined;
  const ca = client.conn.ca?.toString();
  return new CertificateManager({
    name: 'client', dir: p.pki, log,
    acceptable: (pair) => !ca || issuedBy(pair.cert, ca),
    obtain: () => requestCertificate(client, {
      signerName: SIGNERS.kubeletClient, commonName: nodeUser(nodeName), organizations: [NODES_GROUP], usages: KUBELET_CLIENT_USAGES,
    }),
    onRotate: (pair) => client.setClientCertificate(pair.cert, pair.key),
  });
}
