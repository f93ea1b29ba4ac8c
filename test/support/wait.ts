/** Polling for end-to-end tests: a condition re-checked every 250 ms until it holds or time runs out. */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Resolves with the first truthy result of `fn`; errors count as "not yet". On timeout, throws with
 * the last result or error and `context()` (e.g. the server's log tail).
 */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false | null>, timeoutMs = 60_000, context: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})\n${context()}`);
}
