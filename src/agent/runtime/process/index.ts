/** The `process` runtime driver (host commands as containers) and its entry in the driver catalog. */
import type { RuntimeRegistration } from '../drivers.ts';
import { ProcessDriver } from './process-driver.ts';

export { ProcessDriver, type ProcessDriverOptions } from './process-driver.ts';
export { resolveExecutable } from './resolve-executable.ts';

/** Every node has it: the agent does not start without it. */
export const processRuntime: RuntimeRegistration = {
  handler: 'process',
  optional: false,
  create: (ctx) => new ProcessDriver({ stateDir: ctx.stateDir }),
};
