/**
 * `berth lab up`: a cluster of N hosts on this machine (kind create cluster, k3d cluster create):
 * the lab's /24 and names, the bridge and host namespaces, the server, one joined agent per host,
 * and a return once every Node is Ready. The state file is written before anything is made, so a
 * failure half-way, or a crash, is cleaned up by `down` (run at once on failure; the logs stay).
 */
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from '../util/log.ts';
import { freeSubnetOctet, planLab, SERVER_TIMER_FLAGS, type Backend, type ServerTimers } from './lab-plan.ts';
import { readState, writeState, type LabState } from './lab-state.ts';
import { createBridge, createHost, machineAddresses } from './lab-network.ts';
import { startAgentProcess, startServerProcess } from './lab-start.ts';
import { waitNodesReady } from './nodes-ready.ts';
import { labDown } from './lab-down.ts';
import { mountsUnder } from './host-teardown.ts';

export interface LabUpOptions extends ServerTimers {
  dataDir: string;
  nodes: number;
  backend?: Backend;
  dnsUpstream?: string;
  /** Every host runs a storage daemon (`berth join --storage`). */
  storage?: boolean;
  /** How long to wait for all Nodes Ready (default 120 s). */
  readyTimeoutMs?: number;
  log: Logger;
}

/** The files an earlier lab left in the data dir (down keeps its logs); a new lab starts without them. */
function clearOldLabFiles(dataDir: string): void {
  const left = mountsUnder(dataDir);
  if (left.length) throw new Error(`${dataDir} still has mounts (${left.slice(0, 3).join(', ')}…): run berth lab down --data-dir ${dataDir}`);
  for (const name of readdirSync(dataDir)) {
    if (name === 'server' || /^node-\d+$/.test(name) || /^(kubeconfig|server\.log|server\.pid)$/.test(name)) rmSync(join(dataDir, name), { recursive: true, force: true });
  }
}

/** A lab makes namespaces, bridges and cgroups: root only, said before anything is touched. */
export function assertRoot(): void {
  if (process.getuid?.() !== 0) throw new Error('berth lab needs root (network namespaces, bridges, cgroups)');
}

export async function labUp(o: LabUpOptions): Promise<LabState> {
  assertRoot();
  const dataDir = resolve(o.dataDir);
  const existing = readState(dataDir);
  if (existing) throw new Error(`a lab is recorded in ${dataDir} already (${existing.nodes.length} nodes on ${existing.bridge}); run berth lab down --data-dir ${dataDir} first`);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  clearOldLabFiles(dataDir);
  const t0 = performance.now();
  const plan = planLab(dataDir, o.nodes, freeSubnetOctet(await machineAddresses()));
  const state: LabState = {
    ...plan, version: 1, backend: o.backend, dnsUpstream: o.dnsUpstream, storage: o.storage, kubeconfig: join(dataDir, 'kubeconfig'),
    nodes: plan.nodes.map((n) => ({ ...n, condition: 'running' as const })), createdAt: new Date().toISOString(),
  };
  writeState(state);
  try {
    await createBridge(state.bridge, state.serverAddress);
    for (const node of state.nodes) {
      mkdirSync(node.dataDir, { recursive: true, mode: 0o700 });
      await createHost(node, state.bridge);
    }
    o.log.info('lab network made', { bridge: state.bridge, subnet: state.subnet, hosts: state.nodes.length });
    const timers = Object.fromEntries(Object.keys(SERVER_TIMER_FLAGS).map((k) => [k, o[k as keyof ServerTimers]])) as ServerTimers;
    state.server = await startServerProcess(state, timers);
    writeState(state);
    copyFileSync(join(state.serverDataDir, 'kubeconfig'), state.kubeconfig);
    o.log.info('server ready', { url: state.serverUrl, ms: Math.round(performance.now() - t0) });
    for (const node of state.nodes) node.agent = await startAgentProcess(state, node);
    writeState(state);
    const podCidrs = await waitNodesReady(state.kubeconfig, state.nodes, o.readyTimeoutMs ?? 120_000);
    for (const node of state.nodes) node.podCidr = podCidrs.get(node.name) ?? node.podCidr;
    writeState(state);
    o.log.info('nodes Ready', { nodes: state.nodes.length, ms: Math.round(performance.now() - t0) });
    return state;
  } catch (err) {
    o.log.error('lab up failed; taking the lab down (its logs stay in the data dir)', { error: (err as Error).message.split('\n')[0] });
    await labDown({ dataDir, log: o.log }).catch((e) => o.log.error('clean-up failed', { error: (e as Error).message }));
    throw err;
  }
}

