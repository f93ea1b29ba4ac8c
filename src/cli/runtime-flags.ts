/**
 * The runtime options of `berth up` and `berth agent`, taken from the agent's driver catalog: the
 * default RuntimeClass override and one `--<flag> PATH` per driver that runs a program of its own (runc), so a
 * new driver needs no change here.
 */
import type { Command } from 'commander';
import { PROCESS_IMAGE } from '../apis/runtime-annotation.ts';
import { RUNTIMES, runtimeHandlers, type DriverSettings } from '../agent/runtime/drivers.ts';

/** Adds `--default-runtime-class` and the drivers' program flags to `cmd`. */
export function addRuntimeOptions(cmd: Command): Command {
  cmd.option('--default-runtime-class <name>', `RuntimeClass for every pod that names none (${runtimeHandlers().join(' | ')}); `
    + `unset, each such container's image decides: \`image: ${PROCESS_IMAGE}\` runs as a host process, any other image under runc`);
  for (const r of RUNTIMES) {
    if (r.binaryFlag) cmd.option(`--${r.binaryFlag} <path>`, `the program of the ${r.handler} runtime (default: found in PATH)`);
  }
  return cmd;
}

/** The drivers' settings from the parsed options (commander camel-cases flag names). */
export function driverSettings(opts: Record<string, unknown>): Record<string, DriverSettings> {
  const out: Record<string, DriverSettings> = {};
  for (const r of RUNTIMES) {
    if (!r.binaryFlag) continue;
    const key = r.binaryFlag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const binary = opts[key];
    if (typeof binary === 'string') out[r.handler] = { binary };
  }
  return out;
}
