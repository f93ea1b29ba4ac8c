/**
 * Times one start of `bin/berth up` (server + in-process agent) to its node being Ready, as a user
 * sees it: the Node's Ready condition read through the API with the kubeconfig berth up writes. On a
 * data dir that has run before, the Node (Ready) is still in the store, so only a Node written after
 * this start counts — its resourceVersion must be above the store's last revision before the start.
 * Berth runs as lib/berth-entry.ts says (compiled). Uses lib/up.ts's CIDRs, node name and
 * host-network clean-up (run it under the machine-wide e2e lock).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import Database from 'better-sqlite3';
import { freePort, REPO_ROOT } from './server.ts';
import { keepAliveAgent, kubeconfigCredentials, request } from './load.ts';
import { CLUSTER_CIDR, NODE_NAME, POD_CIDR, SERVICE_CIDR } from './up.ts';
import { sleep } from './stats.ts';
import { berthEntry } from './berth-entry.ts';

const live = new Set<ChildProcess>();
process.on('exit', () => { for (const c of live) c.kill('SIGKILL'); });

export interface UpStart {
  /** spawn → the Node's Ready condition True through the API (ms). */
  nodeReadyMs: number;
  /** spawn → berth up printed `Node … is Ready` (ms). */
  printedMs: number;
  /** berth up's own figure in that line (from its start of main, without node/loader start-up). */
  selfMs: number;
  logs: string;
}

/** The store's latest revision (SQLite, berth up stopped): every write of a later start is above it. */
export function storeRevision(dataDir: string): number {
  const db = new Database(path.join(dataDir, 'state.db'), { readonly: true });
  try {
    return (db.prepare('SELECT MAX(id) AS rev FROM log').get() as { rev: number | null }).rev ?? 0;
  } finally {
    db.close();
  }
}

interface NodeObj { metadata: { resourceVersion: string }; status?: { conditions?: { type: string; status: string }[] } }

/** Starts berth up on `dataDir` (fresh or used), waits for its Node to be Ready, then stops it (SIGTERM) and waits for the exit. */
export async function timeUpStart(dataDir: string, port?: number, timeoutMs = 60_000): Promise<UpStart & { port: number }> {
  port ??= await freePort();
  const minRevision = existsSync(path.join(dataDir, 'state.db')) ? storeRevision(dataDir) : 0;
  const kubeconfig = path.join(dataDir, 'kubeconfig');
  const args = ['up', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--cluster-cidr', CLUSTER_CIDR,
    '--pod-cidr', POD_CIDR, '--service-cidr', SERVICE_CIDR, '--node-name', NODE_NAME];
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const started = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, berthEntry().script, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => { live.delete(child); resolve(); }));
  const alive = () => child.exitCode === null && child.signalCode === null;
  let log = '';
  let printedMs = NaN;
  let selfMs = NaN;
  const append = (d: Buffer) => {
    log = (log + d.toString()).slice(-128 * 1024);
    const m = /Node \S+ is Ready \((\d+) ms\)/.exec(log);
    if (m && Number.isNaN(printedMs)) { printedMs = performance.now() - started; selfMs = Number(m[1]); }
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  let agent: http.Agent | undefined;
  try {
    const deadline = started + timeoutMs;
    const check = () => {
      if (!alive()) throw new Error(`berth up exited during startup:\n${log}`);
      if (performance.now() > deadline) throw new Error(`berth up: node not Ready after ${timeoutMs} ms:\n${log}`);
    };
    // The kubeconfig of a used data dir is there from the last start; its CA and admin certificate still hold.
    while (!existsSync(kubeconfig)) { check(); await sleep(5); }
    agent = keepAliveAgent(1, kubeconfigCredentials(kubeconfig));
    const url = `https://127.0.0.1:${port}/api/v1/nodes/${NODE_NAME}`;
    let nodeReadyMs = NaN;
    while (Number.isNaN(nodeReadyMs)) {
      check();
      try {
        const node = JSON.parse((await request(agent, 'GET', url, undefined, {}, 2000)).body.toString()) as NodeObj;
        const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
        if (ready && Number(node.metadata.resourceVersion) > minRevision) nodeReadyMs = performance.now() - started;
      } catch { /* not listening yet, or no Node yet */ }
      if (Number.isNaN(nodeReadyMs)) await sleep(5);
    }
    // berth up prints its line once DNS is up too, just after the Node is Ready.
    while (Number.isNaN(printedMs)) { check(); await sleep(5); }
    return { nodeReadyMs, printedMs, selfMs, logs: log, port };
  } finally {
    agent?.destroy();
    if (alive()) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
  }
}
