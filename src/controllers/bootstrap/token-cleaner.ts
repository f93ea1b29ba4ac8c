/**
 * The token cleaner (pkg/controller/bootstrap/tokencleaner.go): deletes bootstrap token Secrets in
 * kube-system once their expiration has passed (an expiration that does not parse counts as passed),
 * and looks at a token again when it is due. The deletion carries the Secret's uid as a precondition,
 * so a token re-created under the same name in between survives.
 */
import type { KubeObject } from '../../apis/object.ts';
import { BOOTSTRAP_TOKEN_NAMESPACE, BOOTSTRAP_TOKEN_SECRET_TYPE, tokenExpiration, tokenHasExpired } from '../../auth/bootstrap/bootstrap-token.ts';
import { R, type Client } from '../../client/client.ts';
import { enqueueHandlers, runController, type RunningController } from '../../client/controller.ts';
import type { ObjectKey, Reconciler } from '../../client/controller-types.ts';
import { isConflict, isNotFound } from '../../client/errors.ts';
import type { InformerFactory, InformerScope } from '../../client/informer-factory.ts';
import type { SharedInformer } from '../../client/informer.ts';
import { RateLimitedQueue } from '../../client/work-queue.ts';
import type { Logger } from '../../util/log.ts';

/** The informer the cleaner watches: bootstrap token Secrets in kube-system only. */
export const BOOTSTRAP_TOKEN_SCOPE: InformerScope = { namespace: BOOTSTRAP_TOKEN_NAMESPACE, fieldSelector: `type=${BOOTSTRAP_TOKEN_SECRET_TYPE}` };

/** setTimeout's ceiling; a token further out is looked at again then. */
const MAX_DELAY_MS = 2 ** 31 - 1;

export class TokenCleaner implements Reconciler {
  readonly name = 'tokencleaner';
  readonly queue = new RateLimitedQueue();
  private readonly secrets: SharedInformer;

  constructor(private readonly client: Client, factory: InformerFactory, private readonly log?: Logger, private readonly now: () => Date = () => new Date()) {
    this.secrets = factory.forResource(R.secrets, BOOTSTRAP_TOKEN_SCOPE);
    this.secrets.addHandlers(enqueueHandlers(this.queue));
  }

  run(workers = 1): RunningController {
    return runController(this, this.queue, { workers, log: this.log });
  }

  async reconcile(key: ObjectKey): Promise<void> {
    const secret: KubeObject | undefined = this.secrets.get(key);
    if (!secret || secret.metadata.deletionTimestamp) return;
    const now = this.now();
    if (!tokenHasExpired(secret, now)) {
      const exp = tokenExpiration(secret);
      if (exp instanceof Date) this.queue.addAfter(key, Math.min(MAX_DELAY_MS, exp.getTime() - now.getTime()));
      return;
    }
    try {
      await this.client.delete(R.secrets, secret.metadata.namespace, secret.metadata.name!, { preconditions: { uid: secret.metadata.uid } });
      this.log?.info('deleted expired bootstrap token', { secret: key });
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }
}
