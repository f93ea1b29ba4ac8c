/**
 * A view's live data: one WatchStream for the watches it names, re-rendering the view when they
 * change (at most once a frame) and closing the stream when the view goes.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { WatchStream, type WatchSpec } from './watch-stream.ts';

export function useStream(specs: WatchSpec[]): WatchStream {
  const key = JSON.stringify(specs);
  const [, tick] = useState(0);
  const stream = useMemo(() => new WatchStream(specs, () => tick((n) => n + 1)), [key]);
  useEffect(() => () => stream.close(), [stream]);
  return stream;
}
