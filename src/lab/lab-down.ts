/**
 * `berth lab down`: everything `up` made goes — agents and their pods first (killed: the hosts go
 * anyway), then the server; runc's containers, mounts, pod namespaces, host namespaces (one at a
 * time), veths, the bridge, the lab's cgroups, the kubeconfig and the state file. The logs and data
 * under the data dir stay for reading (the next `up` starts afresh). Works from the state file
 * alone, so a crashed lab (processes gone) is cleaned up the same way; without one there is
 * nothing to do (kind delete cluster on a missing cluster).
 */
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from '../util/log.ts';
import { powerOff, removeCgroupsOf } from './host-teardown.ts';
import { cgroupProcsFiles, removeIfEmpty } from './lab-cgroups.ts';
import { deleteBridge, deleteHost } from './lab-network.ts';
import { LAB_CGROUP_ROOT } from './lab-plan.ts';
import { stopProcess } from './lab-processes.ts';
import { readState, removeState } from './lab-state.ts';

/** Takes the lab down; returns what it removed, or undefined when no lab is recorded in the data dir. */
export async function labDown(o: { dataDir: string; log: Logger }): Promise<string[] | undefined> {
  const state = readState(resolve(o.dataDir));
  if (!state) return undefined;
  const removed: string[] = [];
  const errors: string[] = [];
  const step = async (what: string, fn: () => Promise<string[]> | string[]) => {
    try {
      removed.push(...await fn());
    } catch (err) {
      errors.push(`${what}: ${(err as Error).message}`);
      o.log.warn(`${what} failed`, { error: (err as Error).message });
    }
  };
  for (const node of state.nodes) await step(`stopping ${node.name}`, () => powerOff(node, node.agent));
  await step('stopping the server', async () => (await stopProcess(state.server, 10_000)) ? [`server pid ${state.server!.pid}`] : []);
  for (const node of state.nodes) await step(`removing ${node.name}'s namespace`, () => deleteHost(node));
  await step('removing the bridge', () => deleteBridge(state.bridge));
  await step('removing the cgroups', async () => {
    const had = cgroupProcsFiles(state.cgroup).length > 0;
    await removeCgroupsOf(state.cgroup, `lab ${state.id}`);
    removeIfEmpty(LAB_CGROUP_ROOT);
    return had ? [`cgroup ${state.cgroup}`] : [];
  });
  if (errors.length) throw new Error(`the lab in ${state.dataDir} is not fully down (run berth lab down again):\n  ${errors.join('\n  ')}`);
  rmSync(state.kubeconfig, { force: true });
  removeState(state.dataDir);
  return removed;
}
