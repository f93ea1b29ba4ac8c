/**
 * Concurrent watches per client, the in-flight filter of the handler chain: past the limit a new
 * watch is refused with 429 TooManyRequests and Retry-After, as kube-apiserver's max-in-flight and
 * priority-and-fairness filters refuse. A client is its user and remote address (until Berth
 * authenticates, every user is anonymous). Other requests are not counted.
 */
import { ApiError } from '../errors/index.ts';
import type { ApiRequest, InFlightFilter } from './handler-chain.ts';

export function watchLimiter(maxPerClient: number): InFlightFilter & { active(): number } {
  const counts = new Map<string, number>();
  const filter = (r: ApiRequest): (() => void) | undefined => {
    if (r.info?.verb !== 'watch') return undefined;
    const client = `${r.user.name}@${r.req.socket.remoteAddress ?? ''}`;
    const n = counts.get(client) ?? 0;
    if (n >= maxPerClient) {
      throw new ApiError('BERTH_TOO_MANY_REQUESTS', 'Too many requests, please try again later.', {
        causes: [{ reason: 'TooManyWatches', message: `at most ${maxPerClient} concurrent watches per client` }], retryAfterSeconds: 1,
      });
    }
    counts.set(client, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (counts.get(client) ?? 1) - 1;
      if (left > 0) counts.set(client, left);
      else counts.delete(client);
    };
  };
  return Object.assign(filter, { active: () => [...counts.values()].reduce((a, b) => a + b, 0) });
}
