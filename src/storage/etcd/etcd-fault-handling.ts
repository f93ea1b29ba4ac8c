/**
 * How the etcd client rides out the loss of a member (kube-apiserver's etcd client: clientv3's
 * balancer over every endpoint with retries on Unavailable). A call that fails with a transient
 * error (connection refused or reset, `etcdserver: leader changed`, `no leader`, a deadline) is
 * retried on the next member, with a short back-off, for up to ~12 s — longer than an etcd leader
 * election (1 s election timeout, several on a loaded machine) — and a member that failed three calls in a row is skipped for 1 s.
 *
 * Why not the etcd3 defaults: three attempts and a 5 s circuit breaker per member. During an
 * election every member answers "no leader" for a moment, so all three breakers opened together and
 * every write failed for 5 s with "circuit breaker is open" although two members were healthy.
 *
 * A retried write may have been applied before its connection broke; the retry then fails its
 * compare (the key exists, or its revision moved) and the caller gets a conflict for a write that
 * happened — never a success for one that did not. That is etcd's own at-least-once ambiguity.
 */
import { circuitBreaker, ConsecutiveBreaker, ExponentialBackoff, handleWhen, isBrokenCircuitError, retry, type IBackoff } from 'cockatiel';
import { isRecoverableError, type IOptions } from 'etcd3';

/** Unary calls give up after this long (a member that accepts the connection but never answers). */
export const ETCD_CALL_TIMEOUT_MS = 15_000;

const transient = (err: Error) => isRecoverableError(err) || isBrokenCircuitError(err);

/**
 * etcd3 calls `next()` on this for the first delay and on each delay for the following one; its
 * typing names cockatiel 2's backoff (a `duration` on the factory), so a factory is wrapped.
 */
function watchReconnectBackoff(): IBackoff<unknown> {
  const factory = new ExponentialBackoff({ initialDelay: 50, maxDelay: 1000 });
  return { duration: 0, next: () => factory.next() };
}

/** The etcd3 client options for failover between members (see the file comment). */
export function etcdFaultHandling(): Pick<IOptions, 'faultHandling' | 'defaultCallOptions'> {
  return {
    faultHandling: {
      // Watch streams reconnect within a second of a member's loss. etcd3's default (cockatiel's
      // exponential back-off up to 30 s, reset only on success) lets a watch that meets the dead
      // member or an election a few times in a row wait many seconds before it streams again.
      watchBackoff: watchReconnectBackoff(),
      host: () => circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: 1000, breaker: new ConsecutiveBreaker(3) }),
      // 16 attempts with 50 ms doubling to 1 s: about 12 s in all — an election on a loaded machine
      // (fsync-bound WAL, CI's parallel suites) can take longer than the 6 s allowed before; CI once
      // failed this backend's member-kill test there.
      global: retry(handleWhen(transient), { maxAttempts: 16, backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 1000 }) }),
    },
    // Streams (watches) live as long as they are wanted; only unary calls get a deadline.
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + ETCD_CALL_TIMEOUT_MS }),
  };
}
