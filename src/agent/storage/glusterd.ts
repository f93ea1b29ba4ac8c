/**
 * This node's glusterd (what the glusterfs-server package's systemd unit does, per node instead of
 * per machine): its own working directory, run directory (brick pid files and sockets), CLI socket,
 * log and pid file under `<agent data dir>/replicated/glusterd`, and its management port bound to
 * the node's address only — so several nodes of a lab share one machine's file system without
 * meeting. glusterd daemonizes: it, its bricks and its self-heal daemon outlive an agent restart
 * (the bricks keep serving; the next agent adopts the daemon by its pid file), and die with the
 * node (the lab's kill takes the node's cgroup, which they inherit). `ensure` (re)starts it when
 * it is not running — after a crash, the bricks of started volumes come back with it; `resetStore`
 * empties its store but for its identity (a member its peers reject, peer-repair.ts);
 * `rejoinHalfJoined` restarts it with peers stuck half-way into the pool marked in it; `dropVolumes`
 * restarts it without volumes the cluster deleted.
 */
import { spawn } from 'node:child_process';
import { promises as fs, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../util/log.ts';

/** The file of glusterd's store that holds its identity (UUID, op-version). */
export const GLUSTERD_INFO = 'glusterd.info';

/** Where one node's glusterd keeps everything. */
export interface GlusterdPaths {
  root: string;
  volfile: string;
  workdir: string;
  rundir: string;
  socket: string;
  pidFile: string;
  log: string;
}

export function glusterdPaths(root: string): GlusterdPaths {
  return {
    root,
    volfile: join(root, 'glusterd.vol'),
    workdir: join(root, 'state'),
    rundir: join(root, 'run'),
    socket: join(root, 'run', 'glusterd.socket'),
    pidFile: join(root, 'run', 'glusterd.pid'),
    log: join(root, 'glusterd.log'),
  };
}

/** The management volfile (Debian's /etc/glusterfs/glusterd.vol, with this node's paths and address). */
export function glusterdVolfile(p: GlusterdPaths, address: string): string {
  return [
    'volume management',
    '    type mgmt/glusterd',
    `    option working-directory ${p.workdir}`,
    `    option run-directory ${p.rundir}`,
    `    option glusterd-sockfile ${p.socket}`,
    '    option transport-type socket',
    `    option transport.socket.bind-address ${address}`,
    '    option transport.socket.listen-port 24007',
    '    option transport.socket.keepalive-time 10',
    '    option transport.socket.keepalive-interval 2',
    '    option transport.socket.read-fail-log off',
    // Debian's 0 never gives up on a peer whose cable is out: every transaction touching it hangs
    // for the CLI's 120 s. 5 s, as the volumes' own ping-timeout.
    '    option ping-timeout 5',
    '    option event-threads 1',
    '    option max-port 60999',
    'end-volume',
    '',
  ].join('\n');
}

/**
 * The live glusterd of these paths, found by its command line (its volfile) rather than the pid
 * file, which glusterd writes only once it is initialized — tens of seconds on a loaded machine.
 */
export function runningPid(p: GlusterdPaths): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (!cmd[0]?.endsWith('glusterd') || !cmd.includes(p.volfile)) continue;
      // A zombie is not running.
      if (/\) Z /.test(readFileSync(`/proc/${entry}/stat`, 'utf8'))) continue;
      return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/**
 * Moves aside (to `<workdir>/vols-incomplete/`) every volume directory of the store without its
 * `info` file, and returns their names. glusterd refuses to start at all with one ("Unable to
 * restore volume"), and one is left when glusterd dies while importing a newer definition from a
 * peer (the old `info` is unlinked before the new one is stored); moved aside, glusterd starts and
 * its handshake imports the volume from the pool again. Kept, not deleted: it is evidence.
 */
export async function setAsideIncompleteVolumes(workdir: string): Promise<string[]> {
  const vols = join(workdir, 'vols');
  const names = await fs.readdir(vols).catch(() => [] as string[]);
  const moved: string[] = [];
  for (const name of names) {
    const dir = join(vols, name);
    if (!(await fs.stat(dir).then((st) => st.isDirectory(), () => false))) continue;
    if (await fs.stat(join(dir, 'info')).then(() => true, () => false)) continue;
    await fs.mkdir(join(workdir, 'vols-incomplete'), { recursive: true });
    await fs.rename(dir, join(workdir, 'vols-incomplete', `${name}.${Date.now()}`));
    moved.push(name);
  }
  return moved;
}

/**
 * glusterd's friend states as its store keeps them (`peers/<uuid>`, `state=`; glusterd-sm.h): "Peer
 * in Cluster", and the two half-joined states with no way out once the step the peer owed is lost
 * (glusterd-sm.c's state table):
 * - "Sent and Received peer request" (5) leaves only on the answer to its own friend request, which a
 *   peer that restarted before answering never gives; a reconnect does nothing in it.
 * - "Peer is connected and Accepted" (10): this glusterd accepted the peer's friend request and
 *   probes it back; only that probe's answer moves it on. A reconnect does nothing in it, and the
 *   peer's own friend requests are not even answered — so the peer, which lists this member "Peer in
 *   Cluster", never counts it up for server quorum again (its `quorum_contrib` is set up only by an
 *   accepted friend request): on the lab a replace-brick led by that peer was refused ("Server quorum
 *   not met") for minutes while one other member was down.
 * A restart keeps either (the store has it), so neither passes by restarting glusterd alone.
 */
export const PEER_STATE_BEFRIENDED = 3;
export const PEER_STATE_REQ_SENT_RCVD = 5;
export const PEER_STATE_CONNECTED_ACCEPTED = 10;
const DEAD_END_STATES = [PEER_STATE_REQ_SENT_RCVD, PEER_STATE_CONNECTED_ACCEPTED].map((s) => `state=${s}`);

/**
 * Marks "Peer in Cluster" in the store (`<workdir>/peers/`) each peer at one of `addresses` that is
 * stored in a dead-end half-joined state (above); returns their UUIDs. Only while glusterd is stopped
 * (it rewrites the file on every state change). Its next connection to the peer then sends a friend
 * request as to any member, which the peer checks as ever (the volumes' definitions compared: a peer
 * whose definitions conflict comes out "Peer Rejected", not in), and whose answer counts the peer up
 * for server quorum on both sides.
 */
export async function befriendStuckPeers(workdir: string, addresses: readonly string[]): Promise<string[]> {
  const dir = join(workdir, 'peers');
  const changed: string[] = [];
  for (const uuid of await fs.readdir(dir).catch(() => [] as string[])) {
    const file = join(dir, uuid);
    const text = await fs.readFile(file, 'utf8').catch(() => '');
    const lines = text.split('\n');
    const stuck = lines.some((l) => DEAD_END_STATES.includes(l));
    const named = lines.some((l) => /^hostname\d+=/.test(l) && addresses.includes(l.slice(l.indexOf('=') + 1)));
    if (!stuck || !named) continue;
    await fs.writeFile(file, lines.map((l) => (DEAD_END_STATES.includes(l) ? `state=${PEER_STATE_BEFRIENDED}` : l)).join('\n'));
    changed.push(uuid);
  }
  return changed;
}

export class Glusterd {
  readonly paths: GlusterdPaths;

  constructor(root: string, private readonly address: string, private readonly log: Logger) {
    this.paths = glusterdPaths(root);
  }

  private starting?: Promise<boolean>;
  private seen = false;

  /** Starts glusterd unless it runs (or is starting); true when it started one. */
  ensure(): Promise<boolean> {
    if (this.starting) return this.starting;
    if (runningPid(this.paths)) {
      this.seen = true;
      return Promise.resolve(false);
    }
    this.starting = this.start().finally(() => { this.starting = undefined; });
    return this.starting;
  }

  /**
   * Stops this glusterd (SIGTERM: its bricks and self-heal daemon run on) and starts it again, so
   * its handshake with the pool imports what it lacks (volume-import.ts).
   */
  async restart(why: string): Promise<void> {
    await this.stop(why, 'restarting glusterd');
    await this.ensure();
  }

  /**
   * Starts this glusterd again with an empty store but its identity (`glusterd.info`: its UUID,
   * which the pool knows it by): what gluster's operators do to a member its peers reject
   * (peer-repair.ts). The old store is kept aside (`<root>/state-rejected/`, the last one only).
   */
  async resetStore(why: string): Promise<void> {
    await this.stop(why, 'resetting glusterd\'s store (its identity kept)');
    const p = this.paths;
    const aside = join(p.root, 'state-rejected');
    await fs.rm(aside, { recursive: true, force: true });
    await fs.mkdir(aside, { recursive: true });
    for (const name of await fs.readdir(p.workdir).catch(() => [] as string[])) {
      if (name !== GLUSTERD_INFO) await fs.rename(join(p.workdir, name), join(aside, name));
    }
    await this.ensure();
  }

  /**
   * Restarts this glusterd for peers left half-joined (peer-repair.ts): a reconnect settles most such
   * states; those stored in a dead-end one ("Sent and Received peer request", "Peer is connected and
   * Accepted") are first marked in the pool (befriendStuckPeers), since no reconnect moves them.
   */
  async rejoinHalfJoined(addresses: readonly string[], why: string): Promise<void> {
    await this.stop(why, 'restarting glusterd for peers left half-joined');
    const marked = await befriendStuckPeers(this.paths.workdir, addresses);
    if (marked.length) this.log.warn('peers stuck half-joined ("Sent and Received peer request", "Peer is connected and Accepted") marked in the pool: the handshake checks them again', { peers: marked });
    await this.ensure();
  }

  /**
   * Drops volumes the cluster deleted from this member alone (orphan-volumes.ts: a member that missed
   * the delete; a transaction cannot, its peers lack them): glusterd stopped, each definition set
   * aside (`<workdir>/vols-dropped/<volume>.<ms>`, evidence), the volume's brick processes here
   * stopped (their pid files, `<rundir>/vols/<volume>/`: a stopped glusterd leaves them running),
   * glusterd started — its handshake with peers that lack them brings nothing back.
   */
  async dropVolumes(volumes: readonly string[], why: string): Promise<void> {
    await this.stop(why, 'restarting glusterd without volumes the cluster deleted');
    const p = this.paths;
    for (const volume of volumes) {
      if (!/^[\w.-]+$/.test(volume)) continue;
      const dir = join(p.workdir, 'vols', volume);
      if (await fs.stat(dir).then(() => true, () => false)) {
        await fs.mkdir(join(p.workdir, 'vols-dropped'), { recursive: true });
        await fs.rename(dir, join(p.workdir, 'vols-dropped', `${volume}.${Date.now()}`));
      }
      const pids = join(p.rundir, 'vols', volume);
      for (const f of (await fs.readdir(pids).catch(() => [] as string[])).filter((x) => x.endsWith('.pid'))) {
        const pid = Number((await fs.readFile(join(pids, f), 'utf8').catch(() => '')).trim());
        // A stale pid file may name another process by now: only a brick process of this volume.
        const cmd = pid > 1 ? await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '') : '';
        if (cmd.includes('glusterfsd') && cmd.includes(volume)) try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
      }
      await fs.rm(pids, { recursive: true, force: true });
    }
    this.log.warn('volumes the cluster deleted dropped from this glusterd\'s store', { volumes, to: join(p.workdir, 'vols-dropped') });
    await this.ensure();
  }

  /** Stops this glusterd (SIGTERM: its bricks and self-heal daemon run on); the next start is no crash. */
  private async stop(why: string, what: string): Promise<void> {
    if (this.starting) await this.starting.catch(() => {});
    const pid = runningPid(this.paths);
    if (pid) {
      this.log.warn(what, { pid, why });
      try { process.kill(pid, 'SIGTERM'); } catch { /* gone already */ }
      for (let i = 0; i < 100 && runningPid(this.paths) === pid; i++) await new Promise((r) => setTimeout(r, 100));
      if (runningPid(this.paths) === pid) try { process.kill(pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
    }
    this.seen = false;
  }

  private async start(): Promise<boolean> {
    const p = this.paths;
    await fs.mkdir(p.workdir, { recursive: true });
    const incomplete = await setAsideIncompleteVolumes(p.workdir);
    if (incomplete.length) this.log.warn('volume definitions without their info file set aside: glusterd cannot start with them; its peers give them back', { volumes: incomplete, to: join(p.workdir, 'vols-incomplete') });
    await fs.mkdir(p.rundir, { recursive: true });
    await fs.writeFile(p.volfile, glusterdVolfile(p, this.address));
    await fs.rm(p.socket, { force: true });
    // glusterd forks into the background once it is listening, and its first process exits with
    // the answer. No pipes: the daemon would hold them (and the agent's exit would not be clean).
    const exited = new Promise<number | null>((resolve) => {
      const child = spawn('glusterd', ['-f', p.volfile, '-p', p.pidFile, '-l', p.log, '--log-level', 'WARNING'], { detached: true, stdio: 'ignore' });
      child.on('exit', (code) => resolve(code));
      child.on('error', () => resolve(-1));
      child.unref();
    });
    const code = await Promise.race([exited, new Promise<'slow'>((r) => setTimeout(() => r('slow'), 30_000).unref())]);
    if (code !== 0 && code !== 'slow') throw new Error(`glusterd did not start (exit ${code}; see ${p.log})`);
    for (let i = 0; i < 100 && !(await fs.stat(p.socket).then(() => true, () => false)); i++) await new Promise((r) => setTimeout(r, 100));
    // Seen running before and gone now: it crashed or was killed.
    if (this.seen) this.log.warn('glusterd was not running: started again (its started volumes\' bricks come back with it)', { pid: runningPid(p) });
    else this.log.info('glusterd started', { pid: runningPid(p), address: this.address, dir: p.root });
    this.seen = true;
    return true;
  }
}
