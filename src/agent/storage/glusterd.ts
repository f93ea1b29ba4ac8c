/**
 * This node's glusterd (what the glusterfs-server package's systemd unit does, per node instead of
 * per machine): its own working directory, run directory (brick pid files and sockets), CLI socket,
 * log and pid file under `<agent data dir>/replicated/glusterd`, and its management port bound to
 * the node's address only — so several nodes of a lab share one machine's file system without
 * meeting. glusterd daemonizes: it, its bricks and its self-heal daemon outlive an agent restart
 * (the bricks keep serving; the next agent adopts the daemon by its pid file), and die with the
 * node (the lab's kill takes the node's cgroup, which they inherit). `ensure` (re)starts it when
 * it is not running — after a crash, the bricks of started volumes come back with it.
 */
import { execFile } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../util/log.ts';

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
    '    option ping-timeout 0',
    '    option event-threads 1',
    '    option max-port 60999',
    'end-volume',
    '',
  ].join('\n');
}

/** The pid in the pid file when that process is a live glusterd. */
export function runningPid(p: GlusterdPaths): number | undefined {
  try {
    const pid = Number(readFileSync(p.pidFile, 'utf8').trim());
    if (!pid) return undefined;
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // A zombie is not running; a recycled pid is not ours.
    if (/\) Z /.test(stat) || !cmd.includes('glusterd') || !cmd.includes(p.volfile)) return undefined;
    return pid;
  } catch {
    return undefined;
  }
}

export class Glusterd {
  readonly paths: GlusterdPaths;

  constructor(root: string, private readonly address: string, private readonly log: Logger) {
    this.paths = glusterdPaths(root);
  }

  /** Starts glusterd unless it runs; true when it started one. */
  async ensure(): Promise<boolean> {
    if (runningPid(this.paths)) return false;
    const p = this.paths;
    await fs.mkdir(p.workdir, { recursive: true });
    await fs.mkdir(p.rundir, { recursive: true });
    await fs.writeFile(p.volfile, glusterdVolfile(p, this.address));
    await fs.rm(p.socket, { force: true });
    await new Promise<void>((resolve, reject) => {
      // glusterd forks into the background once it is listening; the parent's exit is the answer.
      execFile('glusterd', ['-f', p.volfile, '-p', p.pidFile, '-l', p.log, '--log-level', 'WARNING'], { timeout: 30_000 }, (err, _out, stderr) => {
        if (err) reject(new Error(`glusterd did not start: ${(stderr || err.message).trim()} (see ${p.log})`));
        else resolve();
      });
    });
    for (let i = 0; i < 100 && !(await fs.stat(p.socket).then(() => true, () => false)); i++) await new Promise((r) => setTimeout(r, 100));
    this.log.info('glusterd started', { pid: runningPid(p), address: this.address, dir: p.root });
    return true;
  }
}
