/**
 * The lab's failure commands, for tests and for trying what a cluster does when a machine goes:
 *   kill      the cable pulled and the power cut (every process of the host killed, what a reboot
 *             loses removed — see host-teardown.ts); the host's namespace and data dir stay
 *   partition the cable pulled; everything on the host keeps running
 *   heal      the cable plugged back in
 *   restart   after kill: the cable back in and the agent started again with its data dir (it
 *             rejoins with the credential it has); returns once the Node is Ready
 */
import { resolve } from 'node:path';
import type { Logger } from '../util/log.ts';
import { powerOff } from './host-teardown.ts';
import { setCable } from './lab-network.ts';
import { findNode } from './lab-plan.ts';
import { isAlive } from './lab-processes.ts';
import { readState, writeState, type LabState, type NodeState } from './lab-state.ts';
import { startAgentProcess } from './lab-start.ts';
import { waitNodesReady } from './nodes-ready.ts';

export type FailureCommand = 'kill' | 'partition' | 'heal' | 'restart';

function labIn(dataDir: string): LabState {
  const state = readState(resolve(dataDir));
  if (!state) throw new Error(`no lab in ${resolve(dataDir)} (berth lab up --data-dir ${dataDir} makes one)`);
  return state;
}

/** Kills the host: cable out, every process killed; returns how many things went. */
export async function killNode(state: LabState, node: NodeState): Promise<string[]> {
  await setCable(node, false);
  node.condition = 'killed';
  writeState(state);
  return powerOff(node, node.agent);
}

export async function partitionNode(state: LabState, node: NodeState): Promise<void> {
  if (node.condition === 'killed') throw new Error(`${node.name} is killed; berth lab restart ${node.name} brings it back`);
  await setCable(node, false);
  node.condition = 'partitioned';
  writeState(state);
}

export async function healNode(state: LabState, node: NodeState): Promise<void> {
  if (node.condition === 'killed') throw new Error(`${node.name} is killed; berth lab restart ${node.name} brings it back`);
  await setCable(node, true);
  node.condition = 'running';
  writeState(state);
}

export async function restartNode(state: LabState, node: NodeState, readyTimeoutMs: number): Promise<void> {
  if (isAlive(node.agent)) throw new Error(`the agent of ${node.name} runs (pid ${node.agent!.pid}); berth lab kill ${node.name} first`);
  // What a crashed agent may have left (a kill that was not a lab kill) goes before it starts again.
  await powerOff(node);
  await setCable(node, true);
  node.agent = await startAgentProcess(state, node);
  node.condition = 'running';
  writeState(state);
  const podCidrs = await waitNodesReady(state.kubeconfig, [node], readyTimeoutMs);
  node.podCidr = podCidrs.get(node.name) ?? node.podCidr;
  writeState(state);
}

/** Runs one failure command on the lab in `dataDir`; returns a line for the user. */
export async function runFailureCommand(cmd: FailureCommand, o: { dataDir: string; node: string; log: Logger; readyTimeoutMs?: number }): Promise<string> {
  const state = labIn(o.dataDir);
  const node = findNode(state.nodes, o.node);
  switch (cmd) {
    case 'kill': {
      const gone = await killNode(state, node);
      return `${node.name} killed (cable out; ${gone.join(', ') || 'nothing was running'})`;
    }
    case 'partition':
      await partitionNode(state, node);
      return `${node.name} partitioned (cable out; its processes keep running)`;
    case 'heal':
      await healNode(state, node);
      return `${node.name} healed (cable in)`;
    case 'restart':
      await restartNode(state, node, o.readyTimeoutMs ?? 120_000);
      return `${node.name} restarted and Ready (agent pid ${node.agent!.pid})`;
  }
}
