/**
 * The end of a client watch, one for every Client implementation: `finish` runs its cleanup once and
 * resolves `done` (client-go's watch.Interface Stop + ResultChan closing); `finished` tells event
 * delivery to stop. A watch can end from either side — the caller's close, the stream's end, an error —
 * so each side calls `finish` and only the first counts.
 */
export interface WatchEnd {
  readonly done: Promise<void>;
  readonly finished: boolean;
  finish(): void;
}

export function watchEnd(cleanup: () => void): WatchEnd {
  let finished = false;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => { resolveDone = r; });
  return {
    done,
    get finished() { return finished; },
    finish() {
      if (finished) return;
      finished = true;
      cleanup();
      resolveDone();
    },
  };
}
