/**
 * The agent's serving certificate for its stream server (the kubelet's serverTLSBootstrap with
 * RotateKubeletServerCertificate): system:node:<name> in system:nodes, for the addresses the API
 * server dials it by — its advertised host and InternalIP — and its host name. A joined agent asks
 * for it with a kubernetes.io/kubelet-serving CSR, which Berth approves when those names are the
 * Node's own; `berth up`'s agent, in the process that holds the cluster CA, is issued one directly
 * (a CSR to itself would prove nothing, and would wait for the controller-manager Lease after a
 * restart). Kept current by a CertificateManager; each new one is swapped into the running server.
 *
 * Also: callers outside system:masters are authorized by a SubjectAccessReview, as the kubelet's
 * webhook authorizer does.
 */
import { isIP } from 'node:net';
import { join } from 'node:path';
import { SIGNERS } from '../../apis/certificates.ts';
import type { Client } from '../../client/client.ts';
import { certificateInfo, issuedBy } from '../../pki/certificate-info.ts';
import type { KeyPairPem } from '../../pki/certificates.ts';
import type { Logger } from '../../util/log.ts';
import type { StreamAuthorizer } from '../streams/stream-auth.ts';
import { CertificateManager } from './certificate-manager.ts';
import { requestCertificate } from './csr-request.ts';
import { NODES_GROUP, nodeUser } from '../../auth/node/node-identity.ts';

/** The names a serving certificate is for. */
export interface ServingNames {
  dnsNames: string[];
  ipAddresses: string[];
}

/** Issues a serving certificate for names (berth up: the cluster PKI). */
export type ServingIssuer = (nodeName: string, names: ServingNames) => Promise<KeyPairPem>;

/** The names: the advertised URL's host, the node's IPv4 and its host name (wildcards and duplicates left out). */
export function servingNames(advertisedUrl: string, hostIP: string, hostname: string): ServingNames {
  const host = new URL(advertisedUrl).hostname.replace(/^\[|\]$/g, '');
  const all = [...new Set([host, hostIP, hostname].filter((n) => n && n !== '0.0.0.0' && n !== '::'))];
  return { dnsNames: all.filter((n) => !isIP(n)), ipAddresses: all.filter((n) => isIP(n)) };
}

/** A kubelet-serving CSR through the agent's own client (the default issuer). */
export function csrServingIssuer(client: Client, log?: Logger): ServingIssuer {
  return (nodeName, names) => requestCertificate(client, {
    signerName: SIGNERS.kubeletServing, commonName: nodeUser(nodeName), organizations: [NODES_GROUP],
    dnsNames: names.dnsNames, ipAddresses: names.ipAddresses, usages: ['digital signature', 'server auth'],
    onPending: (name) => log?.warn('serving certificate request pending', { csr: name, approve: `kubectl certificate approve ${name}` }),
  });
}

export interface ServingCertificateOptions {
  nodeName: string;
  /** The agent's data dir: the pair lives in <dir>/pki/serving.{crt,key}. */
  dataDir: string;
  names: ServingNames;
  /** The cluster CA: a certificate from another CA (the cluster was re-created) is replaced. */
  ca: string;
  issue: ServingIssuer;
  onRotate: (pair: KeyPairPem) => void;
  log?: Logger;
}

/** The manager of the serving certificate; `start()` loads or obtains it. */
export function servingCertificateManager(o: ServingCertificateOptions): CertificateManager {
  return new CertificateManager({
    name: 'serving', dir: join(o.dataDir, 'pki'), log: o.log, onRotate: o.onRotate,
    obtain: () => o.issue(o.nodeName, o.names),
    acceptable: (pair) => {
      if (!issuedBy(pair.cert, o.ca)) return false;
      const info = certificateInfo(pair.cert);
      return o.names.dnsNames.every((n) => info.dnsNames.includes(n)) && o.names.ipAddresses.every((n) => info.ipAddresses.includes(n));
    },
  });
}

const SAR = { group: 'authorization.k8s.io', version: 'v1', resource: 'subjectaccessreviews' };

/** Asks the API server whether a caller may use nodes/<node>/proxy (the kubelet's webhook authorizer). */
export function subjectAccessReviewAuthorizer(client: Client): StreamAuthorizer {
  return async (caller, a) => {
    const review = await client.create(SAR, undefined, {
      apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', metadata: {},
      spec: { user: caller.name, groups: caller.groups, resourceAttributes: { verb: a.verb, resource: a.resource, subresource: a.subresource, name: a.name } },
    });
    return review.status?.allowed === true;
  };
}
