/** The `process` runtime driver (host commands as containers). */
export { ProcessDriver, type ProcessDriverOptions } from './process-driver.ts';
export { DEFAULT_PATH, resolveExecutable } from './resolve-executable.ts';
export { hostTools, type HostTools } from '../../../host/host-tools.ts';
