/**
 * The security part for nodes (kube-apiserver's bootstrap token authenticator, Node authorizer and
 * NodeRestriction admission; the certificates.k8s.io admission plugins; kubeadm's join token):
 *
 *   authentication  bootstrap tokens: `<id>.<secret>` ─▶ Secret kube-system/bootstrap-token-<id>
 *   authorization   the Node authorizer (before RBAC) over a graph fed by pod and PV informers
 *   admission       NodeRestriction; CertificateApproval, CertificateSigning, CertificateSubjectRestriction
 *   start           graph informers synced; the join token: a bootstrap token Secret without expiry and
 *                   DATA/join-token (0600) = K10<CA hash>::<id>.<secret>, both kept across restarts
 *
 * The join token is the cluster's standing one, as k3s's: to replace it, delete DATA/join-token and
 * its Secret and restart; deleting only the Secret revokes it until the next start recreates it.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeObject } from '../../../apis/object.ts';
import {
  BOOTSTRAP_TOKEN_NAMESPACE, KEY, bootstrapTokenSecret, bootstrapTokenSecretName, generateBootstrapToken, secretData,
  type BootstrapToken,
} from '../../../auth/bootstrap/bootstrap-token.ts';
import { formatJoinToken, parseJoinToken } from '../../../auth/bootstrap/join-token.ts';
import { BootstrapTokenAuthenticator } from '../../../auth/bootstrap/token-authenticator.ts';
import { NodeAuthorizer } from '../../../auth/node/node-authorizer.ts';
import { NodeGraph } from '../../../auth/node/node-graph.ts';
import { R } from '../../../client/client.ts';
import { isAlreadyExists, isNotFound } from '../../../client/errors.ts';
import type { InformerHandlers } from '../../../client/controller-types.ts';
import { ApiError } from '../../../errors/index.ts';
import { certificateSigningRequestAdmission } from '../../../registry/admission/certificate-signing-requests.ts';
import { NodeRestriction } from '../../../registry/admission/node-restriction.ts';
import type { SecurityContext, SecurityPart } from '../security-part.ts';

/** The file the server writes its join token to (`berth join --token-file`). */
export const JOIN_TOKEN_FILE = 'join-token';

/** One graph per server (a process may run several: tests). */
const graphs = new WeakMap<SecurityContext, NodeGraph>();

function graphOf(ctx: SecurityContext): NodeGraph {
  let g = graphs.get(ctx);
  if (!g) graphs.set(ctx, (g = new NodeGraph()));
  return g;
}

/** Reads an object straight from the store (fresh, no cache); undefined when there is none. */
async function read(ctx: SecurityContext, plural: string, namespace: string, name: string): Promise<KubeObject | undefined> {
  try {
    return await ctx.registry.store('', plural)!.get(namespace, name);
  } catch (err) {
    if (err instanceof ApiError && err.reason === 'NotFound') return undefined;
    throw err;
  }
}

/** Keeps the graph in step with an informer. */
function feed(set: (o: KubeObject) => void, remove: (o: KubeObject) => void): InformerHandlers {
  return { add: set, update: (_old, o) => set(o), delete: remove };
}

/**
 * The join token: reuses DATA/join-token's bootstrap token (re-pinned if the CA changed), or makes
 * one; its Secret is created when missing and corrected when it no longer matches the file.
 */
export async function ensureJoinToken(ctx: SecurityContext): Promise<{ path: string; token: BootstrapToken }> {
  const path = join(ctx.dataDir, JOIN_TOKEN_FILE);
  let token: BootstrapToken | undefined;
  if (existsSync(path)) {
    try {
      token = parseJoinToken(readFileSync(path, 'utf8')).token;
    } catch (err) {
      ctx.log.warn('join token file unreadable; writing a new one', { path, error: (err as Error).message });
    }
  }
  token ??= generateBootstrapToken();
  const wanted = bootstrapTokenSecret(token, { description: `the join token of ${path} (berth join --token-file)` });
  const client = ctx.client;
  const name = bootstrapTokenSecretName(token.id);
  let existing: KubeObject | undefined;
  try {
    existing = await read(ctx, 'secrets', BOOTSTRAP_TOKEN_NAMESPACE, name);
  } catch (err) {
    // As kube-apiserver, a Secret no configured key decrypts does not stop the server: the token
    // stays unusable (joins are refused) until the Secret is readable again or deleted.
    ctx.log.error('the join token\'s Secret cannot be read: nodes cannot join with it until it can (an encryption key removed before every Secret was rewritten?) or it is deleted', { secret: `${BOOTSTRAP_TOKEN_NAMESPACE}/${name}`, error: (err as Error).message });
    return { path, token };
  }
  const intact = existing && secretData(existing, KEY.secret) === token.secret && secretData(existing, KEY.id) === token.id
    && secretData(existing, KEY.usageAuthentication) === 'true' && !secretData(existing, KEY.expiration) && !existing.metadata.deletionTimestamp;
  if (!existing) {
    await client.create(R.secrets, BOOTSTRAP_TOKEN_NAMESPACE, wanted).catch((err) => { if (!isAlreadyExists(err)) throw err; });
  } else if (!intact) {
    await client.update(R.secrets, BOOTSTRAP_TOKEN_NAMESPACE, { ...wanted, metadata: { ...existing.metadata, resourceVersion: undefined }, data: {} })
      .catch((err) => { if (!isNotFound(err)) throw err; });
  }
  const text = `${formatJoinToken({ caPin: ctx.pki.caPin, token })}\n`;
  if (!existsSync(path) || readFileSync(path, 'utf8') !== text) {
    writeFileSync(`${path}.tmp`, text, { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
  }
  return { path, token };
}

export const nodePart: SecurityPart = {
  name: 'node',

  tokenAuthenticators(ctx) {
    const log = ctx.log.child({ authenticator: 'bootstrap-token' });
    return [new BootstrapTokenAuthenticator(
      (name) => read(ctx, 'secrets', BOOTSTRAP_TOKEN_NAMESPACE, name),
      (why, tokenId) => log.info('bootstrap token refused', { tokenId, why }),
    )];
  },

  authorizers(ctx) {
    return [new NodeAuthorizer(graphOf(ctx))];
  },

  admission(ctx) {
    return [
      new NodeRestriction((ns, name) => read(ctx, 'pods', ns, name)),
      ...certificateSigningRequestAdmission(() => ctx.authorizer),
    ];
  },

  async start(ctx) {
    const graph = graphOf(ctx);
    // Asked for before the first await: security.ts starts the shared informers right after.
    const pods = ctx.informers.forResource(R.pods);
    const pvs = ctx.informers.forResource(R.persistentvolumes);
    const podHandlers = feed((p) => graph.setPod(p), (p) => graph.deletePod(p));
    const pvHandlers = feed((v) => graph.setPV(v), (v) => graph.deletePV(v));
    pods.addHandlers(podHandlers);
    pvs.addHandlers(pvHandlers);
    await Promise.all([pods.synced(), pvs.synced()]);
    const { path } = await ensureJoinToken(ctx);
    ctx.log.info('nodes join with', { command: `berth join --server https://${ctx.advertiseAddress}:${ctx.port} --token-file ${path}` });
    return {
      stop() {
        pods.removeHandlers(podHandlers);
        pvs.removeHandlers(pvHandlers);
      },
    };
  },
};
