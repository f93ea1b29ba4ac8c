/** Polling for end-to-end tests: a condition re-checked until it holds or time runs out. */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a suite's failures should show (e.g. the server's log tail, `kubectl get` of its objects). */
export type WaitContext = () => string | Promise<string>;

/**
 * Resolves with the first truthy result of `fn`, re-checked every `everyMs`; errors count as "not
 * yet". On timeout, throws with the last result or error and `context()`.
 */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false | null>, timeoutMs = 60_000, context: WaitContext = () => '', everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) break;
    await sleep(everyMs);
  }
  const said = await Promise.resolve().then(context).catch((err) => `(context failed: ${String(err)})`);
  throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})\n${said}`);
}

/**
 * A suite's own `waitFor`: its failure context, its default timeout and polling interval, so each
 * suite states only what differs.
 */
export function waiter(opts: { context?: WaitContext; timeoutMs?: number; everyMs?: number } = {}) {
  return <T>(what: string, fn: () => Promise<T | undefined | false | null>, timeoutMs = opts.timeoutMs ?? 60_000, everyMs = opts.everyMs ?? 250): Promise<T> =>
    waitFor(what, fn, timeoutMs, opts.context, everyMs);
}
