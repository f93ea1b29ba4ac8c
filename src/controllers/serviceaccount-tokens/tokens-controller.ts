/**
 * The ServiceAccount tokens controller (kube-controller-manager's serviceaccount-token controller,
 * pkg/controller/serviceaccount/tokens_controller.go): a Secret of type
 * `kubernetes.io/service-account-token` naming a ServiceAccount (annotation
 * `kubernetes.io/service-account.name`) is filled with a legacy token, the cluster CA and the
 * namespace — and deleted when its ServiceAccount is gone or was replaced (another uid). Since
 * Kubernetes 1.24 no such Secret is made on its own: users create them for long-lived tokens.
 *
 *   Secret (that type) ─▶ key `secret:<ns>/<name>` ─▶ SA exists, same uid? ─ no ─▶ delete the Secret
 *                                                     └ yes ─▶ data.token, ca.crt, namespace + uid annotation
 *   ServiceAccount deleted ─▶ key `sa:<ns>/<name>` ─▶ delete its token Secrets
 */
import type { KubeObject } from '../../apis/object.ts';
import { R, type Client } from '../../client/client.ts';
import { runController, type RunningController } from '../../client/controller.ts';
import type { ObjectKey, Reconciler } from '../../client/controller-types.ts';
import { isConflict, isNotFound } from '../../client/errors.ts';
import type { InformerFactory, InformerScope } from '../../client/informer-factory.ts';
import type { SharedInformer } from '../../client/informer.ts';
import { RateLimitedQueue } from '../../client/work-queue.ts';
import type { Logger } from '../../util/log.ts';
import { SERVICE_ACCOUNTS } from '../serviceaccount/serviceaccount-controller.ts';

export const TOKEN_SECRET_TYPE = 'kubernetes.io/service-account-token';
export const SA_NAME_ANNOTATION = 'kubernetes.io/service-account.name';
export const SA_UID_ANNOTATION = 'kubernetes.io/service-account.uid';
/** Only Secrets of the token type are watched. */
export const TOKEN_SECRET_SCOPE: InformerScope = { fieldSelector: `type=${TOKEN_SECRET_TYPE}` };

/** What the controller signs with: a legacy token for (namespace, ServiceAccount, Secret name). */
export interface LegacyTokenSigner {
  legacy(namespace: string, serviceAccount: { name: string; uid: string }, secretName: string): Promise<string>;
}

export interface TokensControllerOptions {
  /** The cluster CA (PEM), the Secrets' `ca.crt`. */
  rootCA: string;
  signer: LegacyTokenSigner;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: unknown) => (typeof s === 'string' ? Buffer.from(s, 'base64').toString('utf8') : undefined);

export class TokensController implements Reconciler {
  readonly name = 'serviceaccount-token';
  readonly queue = new RateLimitedQueue();
  private readonly secrets: SharedInformer;

  /** `opts` undefined (no signing key in this context): the controller does nothing. */
  constructor(private readonly client: Client, factory: InformerFactory, private readonly opts: TokensControllerOptions | undefined, private readonly log?: Logger) {
    this.secrets = factory.forResource(R.secrets, TOKEN_SECRET_SCOPE);
    const secretKey = (s: KubeObject) => this.queue.add(`secret:${s.metadata.namespace}/${s.metadata.name}`);
    this.secrets.addHandlers({ add: secretKey, update: (_o, n) => secretKey(n) });
    factory.forResource(SERVICE_ACCOUNTS).addHandlers({
      delete: (sa) => this.queue.add(`sa:${sa.metadata.namespace}/${sa.metadata.name}`),
      // A ServiceAccount created again under the same name: its old Secrets' uid no longer matches.
      add: (sa) => { for (const s of this.secretsOf(sa.metadata.namespace!, sa.metadata.name!)) secretKey(s); },
    });
  }

  run(workers = 1): RunningController {
    return runController(this, this.queue, { workers, log: this.log });
  }

  async reconcile(key: ObjectKey): Promise<void> {
    if (!this.opts) return;
    const kind = key.slice(0, key.indexOf(':'));
    const [ns, name] = key.slice(kind.length + 1).split('/');
    if (kind === 'sa') {
      // Deleted: its token Secrets go (unless it is back meanwhile — then the uid check below decides).
      if (await this.serviceAccount(ns, name)) return;
      for (const s of this.secretsOf(ns, name)) await this.deleteSecret(s);
      return;
    }
    const secret = this.secrets.get(`${ns}/${name}`);
    if (!secret || secret.metadata.deletionTimestamp) return;
    const saName = secret.metadata.annotations?.[SA_NAME_ANNOTATION];
    if (!saName) return;
    const sa = await this.serviceAccount(ns, saName);
    const wantUid = secret.metadata.annotations?.[SA_UID_ANNOTATION];
    if (!sa || (wantUid && wantUid !== sa.metadata.uid)) {
      await this.deleteSecret(secret);
      return;
    }
    await this.fill(secret, sa);
  }

  /** The live ServiceAccount (a lagging cache must not get a Secret deleted). */
  private async serviceAccount(ns: string, name: string): Promise<KubeObject | undefined> {
    try {
      return await this.client.get(SERVICE_ACCOUNTS, ns, name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private secretsOf(ns: string, saName: string): KubeObject[] {
    return this.secrets.list(ns).filter((s) => s.metadata.annotations?.[SA_NAME_ANNOTATION] === saName);
  }

  private async deleteSecret(secret: KubeObject): Promise<void> {
    try {
      await this.client.delete(R.secrets, secret.metadata.namespace, secret.metadata.name!, { preconditions: { uid: secret.metadata.uid } });
      this.log?.info('deleted a token Secret whose ServiceAccount is gone', { namespace: secret.metadata.namespace, secret: secret.metadata.name });
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }

  /** Token, CA and namespace (what generateTokenIfNeeded checks), and the ServiceAccount's uid. */
  private async fill(secret: KubeObject, sa: KubeObject): Promise<void> {
    const { rootCA, signer } = this.opts!;
    const ns = secret.metadata.namespace!;
    const data = { ...((secret.data ?? {}) as Record<string, string>) };
    let changed = false;
    if (unb64(data['ca.crt']) !== rootCA) { data['ca.crt'] = b64(rootCA); changed = true; }
    if (unb64(data.namespace) !== ns) { data.namespace = b64(ns); changed = true; }
    if (!data.token) {
      data.token = b64(await signer.legacy(ns, { name: sa.metadata.name!, uid: sa.metadata.uid! }, secret.metadata.name!));
      changed = true;
    }
    const annotations = { ...secret.metadata.annotations };
    if (annotations[SA_UID_ANNOTATION] !== sa.metadata.uid) { annotations[SA_UID_ANNOTATION] = sa.metadata.uid!; changed = true; }
    if (!changed) return;
    try {
      await this.client.update(R.secrets, ns, { ...secret, data, metadata: { ...secret.metadata, annotations } });
    } catch (err) {
      // Changed meanwhile: the update event brings it back here.
      if (!isConflict(err) && !isNotFound(err)) throw err;
    }
  }
}
