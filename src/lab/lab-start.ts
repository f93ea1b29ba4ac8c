/**
 * Starting the lab's members with the real `berth` executable: the server in the machine's own
 * namespace on the lab bridge's address, and on each host `berth join …` (the command line other
 * tools rely on) inside the host's namespace and cgroup. `up` starts all of them, `restart` one agent
 * again with its data dir (it rejoins with the credential it already has).
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { joinArgs, serverArgs, type ServerTimers } from './lab-plan.ts';
import type { LabState, NodeState, ProcessRecord } from './lab-state.ts';
import { isAlive, logTail, startDetached } from './lab-processes.ts';
import { netnsPath } from './lab-network.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The server's files a joining node needs (berth server writes them). */
const JOIN_TOKEN = 'join-token';

/** The `berth` executable running now (bin/berth), else the one of this checkout. */
export function berthExecutable(): string {
  if (process.argv[1] && basename(process.argv[1]) === 'berth') return resolve(process.argv[1]);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'bin', 'berth'))) return join(dir, 'bin', 'berth');
    dir = dirname(dir);
  }
  throw new Error('cannot find bin/berth');
}

export function joinTokenFile(state: Pick<LabState, 'serverDataDir'>): string {
  return join(state.serverDataDir, JOIN_TOKEN);
}

/**
 * Starts `berth server` and resolves once it serves (its kubeconfig is written when it is ready;
 * the server dir starts empty, so no earlier one is mistaken for it).
 */
export async function startServerProcess(state: LabState, timers: ServerTimers, timeoutMs = 60_000): Promise<ProcessRecord> {
  if (existsSync(state.serverDataDir) && readdirSync(state.serverDataDir).length) throw new Error(`${state.serverDataDir} is not empty`);
  const rec = await startDetached([berthExecutable(), ...serverArgs(state, { ...timers, dnsUpstream: state.dnsUpstream })], {
    log: join(state.dataDir, 'server.log'), pidFile: join(state.dataDir, 'server.pid'),
  });
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(join(state.serverDataDir, 'kubeconfig')) || !existsSync(joinTokenFile(state))) {
    if (!isAlive(rec)) throw new Error(`berth server exited; the end of ${rec.log}:\n${logTail(rec.log)}`);
    if (Date.now() > deadline) throw new Error(`berth server not ready within ${timeoutMs / 1000} s; the end of ${rec.log}:\n${logTail(rec.log)}`);
    await sleep(50);
  }
  return rec;
}

/** Starts the host's agent (`berth join …`) in its namespace and cgroup; logs in <node dir>/agent.log. */
export function startAgentProcess(state: LabState, node: NodeState): Promise<ProcessRecord> {
  const argv = [berthExecutable(), ...joinArgs(state, node, { tokenFile: joinTokenFile(state), backend: state.backend, dnsUpstream: state.dnsUpstream, storage: state.storage })];
  return startDetached(argv, { netnsPath: netnsPath(node.netns), cgroup: `${node.cgroup}/agent`, log: join(node.dataDir, 'agent.log'), pidFile: join(node.dataDir, 'agent.pid') });
}
