/**
 * Polling for unit tests (end-to-end suites use test/support/wait.ts, which also logs context):
 * `fn` is asked again every `everyMs` until it gives a value — anything but undefined or false —
 * or `timeoutMs` runs out, which throws naming `what`.
 */
export async function waitFor<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 8000, everyMs = 20): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
