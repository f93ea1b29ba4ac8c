/**
 * Looking at a storage lab's GlusterFS from the machine (`berth lab up --storage`): each node's
 * glusterd through its own CLI socket inside the node's network namespace, its processes by command
 * line, its pool as every member sees it, and what a failed case prints of it (the lab and its logs
 * are gone after the suite); the claim and pod manifests the suite applies.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parsePool, type PoolPeer } from '../../src/agent/storage/gluster-cli.ts';
import type { TestLab } from '../../src/lab/lab.fixture.ts';

export const PEER_IN_CLUSTER = 'Peer in Cluster';

/** Processes whose command line mentions `needle` (glusterd, bricks, self-heal daemons, FUSE clients of the lab); zombies are not. */
export function processesWith(needle: string): string[] {
  const out: string[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(needle) && !/\) Z /.test(readFileSync(`/proc/${p}/stat`, 'utf8'))) out.push(`${p} ${cmd}`);
    } catch { /* gone */ }
  }
  return out;
}

export function sha(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** The gluster CLI against node `name`'s glusterd, from its namespace (script mode: no prompts). */
export function glusterOn(lab: TestLab, name: string, ...args: string[]): string {
  const n = lab.state().nodes.find((x) => x.name === name);
  if (!n) throw new Error(`no lab node ${name}`);
  return execFileSync('nsenter', [`--net=/run/netns/${n.netns}`, 'gluster',
    `--glusterd-sock=${path.join(n.dataDir, 'replicated', 'glusterd', 'run', 'glusterd.socket')}`, '--mode=script', ...args], { encoding: 'utf8', timeout: 60_000 });
}

/**
 * Whether every member of `members` (node names; default all) sees each other one connected and
 * "Peer in Cluster"; throws naming the first view that is not, so a wait on it says where it stuck.
 * One side's view alone is not enough: a member can list a peer "Peer in Cluster" while that peer
 * holds it "Peer is connected and Accepted" — and then never counts it for server quorum.
 */
export function poolWhole(lab: TestLab, members = lab.state().nodes.map((n) => n.name)): true {
  const address = new Map(lab.state().nodes.map((n) => [n.name, n.address]));
  for (const name of members) {
    const peers: PoolPeer[] = parsePool(glusterOn(lab, name, 'pool', 'list', '--xml'));
    for (const other of members.filter((m) => m !== name)) {
      const p = peers.find((x) => x.address === address.get(other));
      if (!p || !p.connected || p.state !== PEER_IN_CLUSTER) throw new Error(`${name} sees ${other}: ${p ? `${p.state} (${p.connected ? 'connected' : 'disconnected'})` : 'not a peer'}`);
    }
  }
  return true;
}

/**
 * Stops node `name`'s glusterd (SIGSTOP: its agent starts a dead glusterd again, not a stopped one),
 * sets the friend state its store keeps for the peer at `peerAddress` (`peers/<uuid>`, `state=`;
 * glusterd-sm.h numbers them), and kills it (SIGKILL: no chance to write the store back), so its
 * agent starts it with that state. Returns the killed pid.
 */
export function killGlusterdWithPeerState(lab: TestLab, name: string, peerAddress: string, state: number): number {
  const n = lab.state().nodes.find((x) => x.name === name);
  if (!n) throw new Error(`no lab node ${name}`);
  const dir = path.join(n.dataDir, 'replicated', 'glusterd');
  const [pid] = processesWith(path.join(dir, 'glusterd.vol')).map((l) => Number(l.split(' ')[0]));
  if (!pid) throw new Error(`${name}: no glusterd running`);
  process.kill(pid, 'SIGSTOP');
  const peers = path.join(dir, 'state', 'peers');
  const file = readdirSync(peers).map((f) => path.join(peers, f)).find((f) => readFileSync(f, 'utf8').split('\n').includes(`hostname1=${peerAddress}`));
  if (!file) {
    process.kill(pid, 'SIGCONT');
    throw new Error(`${name}: no peer ${peerAddress} in its store`);
  }
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^state=\d+$/m, `state=${state}`));
  process.kill(pid, 'SIGKILL');
  return pid;
}

/**
 * What each node's glusterd knows: its volume list, its store's volumes, its peers, the end of its log;
 * with `volume`, also what its self-heal daemon has left to heal on each brick (`heal info summary`:
 * a brick it cannot reach says "Transport endpoint is not connected").
 */
export function engineReport(lab: TestLab, volume?: string): string {
  return lab.state().nodes.map((n) => {
    let heal = '';
    if (volume) {
      try { heal = `\nheal info: ${glusterOn(lab, n.name, '--timeout=20', 'volume', 'heal', volume, 'info', 'summary').replace(/\s*\n\s*/g, ' ').trim()}`; } catch (err) { heal = `\nheal info: (${(err as Error).message.split('\n')[0]})`; }
    }
    const dir = path.join(n.dataDir, 'replicated', 'glusterd');
    let list: string;
    try { list = glusterOn(lab, n.name, 'volume', 'list').trim().replace(/\n/g, ' '); } catch (err) { list = `(${(err as Error).message.split('\n')[0]})`; }
    const store = path.join(dir, 'state', 'vols');
    // A volume directory without its `info` file is one glusterd cannot restore.
    const vols = existsSync(store) ? readdirSync(store).map((v) => (existsSync(path.join(store, v, 'info')) ? v : `${v} (no info file)`)).join(' ') : '(no vols dir)';
    let peers: string;
    try { peers = glusterOn(lab, n.name, 'peer', 'status').split('\n').filter((l) => /^(Hostname|State):/.test(l)).map((l) => l.replace(/^\w+: /, '')).join(' '); } catch (err) { peers = `(${(err as Error).message.split('\n')[0]})`; }
    const log = existsSync(path.join(dir, 'glusterd.log')) ? readFileSync(path.join(dir, 'glusterd.log'), 'utf8').trimEnd().split('\n').slice(-15).join('\n') : '';
    // The agent's own word on the pool (half-joined peers, restarts for them, rejoins).
    const agent = lab.logTail(n.name, 400).split('\n').filter((l) => /pool|half-joined|restarting glusterd|glusterd (was not running|started)/.test(l)).slice(-6).join('\n');
    return `--- ${n.name} (${n.address}): volume list: ${list}; store: ${vols}; peers: ${peers}${heal}\n${log}\n${agent}`;
  }).join('\n');
}

/** node `name`'s glusterd pid (its agent keeps one running). */
export function glusterdPid(lab: TestLab, name: string): number {
  const n = lab.state().nodes.find((x) => x.name === name);
  const [pid] = n ? processesWith(path.join(n.dataDir, 'replicated', 'glusterd', 'glusterd.vol')).map((l) => Number(l.split(' ')[0])) : [];
  if (!pid) throw new Error(`${name}: no glusterd running`);
  return pid;
}

/** A claim of class replicated. */
export const claim = (name: string) => JSON.stringify({
  apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name },
  spec: { storageClassName: 'replicated', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
});

/** A process pod pinned on `nodeName` running a python `script` with the claim mounted at /data. */
export const podOn = (name: string, nodeName: string, script: string, claimName = 'data', restartPolicy = 'Never') => JSON.stringify({
  apiVersion: 'v1', kind: 'Pod', metadata: { name },
  spec: {
    nodeName, restartPolicy, terminationGracePeriodSeconds: 1,
    containers: [{ name: 'c', image: 'host', command: ['python3', '-c', script], volumeMounts: [{ name: 'd', mountPath: '/data' }] }],
    volumes: [{ name: 'd', persistentVolumeClaim: { claimName } }],
  },
});
