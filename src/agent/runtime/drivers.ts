/**
 * The runtime drivers an agent can run, one per RuntimeClass handler — Nomad's catalog of driver
 * plugins, Kubernetes' RuntimeClass handlers. The agent builds its drivers from this list (the node
 * runtime, node-runtime.ts) and offers one RuntimeClass per entry (../node/runtime-classes.ts).
 *
 * A new driver is a folder beside process/ and runc/ whose index.ts exports a RuntimeRegistration,
 * plus its line below (and its name in the API's list of handlers, src/apis/runtime-annotation.ts,
 * for the per-container annotation).
 */
import type { Logger } from '../../util/log.ts';
import type { RuntimeDriver } from './driver.ts';
import { processRuntime } from './process/index.ts';
import { runcRuntime } from './runc/index.ts';

/** Command-line settings of one driver (e.g. `--runc PATH` → `{ binary: PATH }`). */
export interface DriverSettings {
  /** The runtime's program, when it has one (default: found in the system PATH). */
  binary?: string;
}

/** What a driver is built with. */
export interface DriverContext {
  /** The driver's own directory: `<agent data dir>/runtime/<handler>`. */
  stateDir: string;
  /** The node's image store: drivers whose capabilities say `images` read layers from it (pulling is the pod worker's job). */
  images: { get(ref: string): Promise<{ layerDirs: string[] } | undefined> };
  settings: DriverSettings;
  log: Logger;
}

/** One entry of the catalog. */
export interface RuntimeRegistration {
  /** The RuntimeClass handler the driver serves (the node creates a RuntimeClass of that name). */
  readonly handler: string;
  /**
   * A node runs on without this driver when it cannot be built here (its program missing: a
   * warning, and pods that need it fail with CreateContainerError); a driver that is not optional
   * stops the agent instead.
   */
  readonly optional: boolean;
  /**
   * The command-line flag naming the driver's program (`runc` → `berth up|agent --runc PATH`), for
   * drivers that run one; it fills DriverSettings.binary.
   */
  readonly binaryFlag?: string;
  /** Builds the driver; throws when the host lacks what it needs. */
  create(ctx: DriverContext): RuntimeDriver;
}

/** Every driver this agent knows. */
export const RUNTIMES: readonly RuntimeRegistration[] = [
  processRuntime,
  runcRuntime,
];

/** The handlers of the catalog (the RuntimeClasses a node offers). */
export function runtimeHandlers(registry: readonly RuntimeRegistration[] = RUNTIMES): string[] {
  return registry.map((r) => r.handler);
}
