/**
 * SIGTERM / SIGINT handling for the long-running commands, installed before start-up begins.
 * A signal that arrives while the command is still starting is held until the start completes and
 * then stops it cleanly: killing it mid-start would leave host state (service rules, bridge)
 * half-made and skip the clean-stop cleanup. A second signal ends the process at once (exit code
 * 128 + signal number, as the default action would) — the way out of a start or stop that hangs.
 */
import { constants } from 'node:os';
import type { Logger } from '../util/log.ts';

export interface StopSignals {
  /** Start-up finished: `stop` runs on the next signal, or at once if one came during start-up. */
  started(stop: () => Promise<void>): void;
}

export function handleStopSignals(log: Logger, message: string): StopSignals {
  let stop: (() => Promise<void>) | undefined;
  let signal: string | undefined;
  const run = () => {
    log.info(message, { signal });
    stop!().then(() => process.exit(0), (err) => {
      log.error('stop failed', { error: String(err) });
      process.exit(1);
    });
  };
  const on = (s: 'SIGTERM' | 'SIGINT') => {
    if (signal) process.exit(128 + constants.signals[s]);
    signal = s;
    if (stop) run();
    else log.info('signal during start-up: stopping once started (send it again to exit now)', { signal: s });
  };
  process.on('SIGTERM', () => on('SIGTERM'));
  process.on('SIGINT', () => on('SIGINT'));
  return {
    started(fn) {
      stop = fn;
      if (signal) run();
    },
  };
}
