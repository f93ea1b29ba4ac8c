/** The `process` runtime driver (host commands as containers) and its entry in the driver catalog. */
import type { RuntimeRegistration } from '../drivers.ts';
import { memoryStateDir } from '../shared/memory-state-dir.ts';
import { ProcessDriver } from './process-driver.ts';

export { ProcessDriver, type ProcessDriverOptions } from './process-driver.ts';
export { resolveExecutable } from './resolve-executable.ts';

/** Every node has it: the agent does not start without it. */
export const processRuntime: RuntimeRegistration = {
  handler: 'process',
  optional: false,
  // Container state in memory (/run or /dev/shm), not on the data dir's disk: see memory-state-dir.ts.
  create: (ctx) => {
    const stateDir = memoryStateDir(ctx.stateDir);
    if (stateDir !== ctx.stateDir) ctx.log.info('process runtime: container state in memory', { stateDir });
    return new ProcessDriver({ stateDir });
  },
};
