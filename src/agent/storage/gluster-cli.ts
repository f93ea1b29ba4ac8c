/**
 * The gluster CLI, the one boundary between the storage agent and GlusterFS (what heketi's executor
 * ran over ssh): every call goes to this node's glusterd through its own socket (`--glusterd-sock`,
 * since several glusterds share one file system in a lab) in script mode, answers parsed from
 * `--xml`. Mutating calls are made idempotent by their callers (info before create, status before
 * start). Unit tests replace it with a fake (`GlusterCli`).
 */
import { execFile } from 'node:child_process';

/** One brick as `volume status` sees it. */
export interface BrickStatus {
  /** `address:path`, as given at create. */
  name: string;
  online: boolean;
  port?: number;
}

export interface VolumeInfo {
  name: string;
  /** `Created`, `Started`, `Stopped`. */
  status: string;
  bricks: string[];
  /** The options set on it (`volume set`), by key; absent for a fake. */
  options?: Record<string, string>;
}

/** Another member of the pool as one glusterd sees it. */
export interface PoolPeer {
  address: string;
  connected: boolean;
  /** glusterd's peer state (`stateStr`): `Peer in Cluster`, `Peer Rejected`, `Accepted peer request`…; absent for a fake. */
  state?: string;
}

export interface GlusterCli {
  /** Adds a node to the trusted pool (idempotent: a peer already there is success). */
  probe(address: string): Promise<void>;
  /**
   * The pool's other members as this node's glusterd sees them, or as the member at `remoteHost`
   * sees its own (`pool list` is one of the read-only calls glusterd answers over its management port).
   */
  peers(remoteHost?: string): Promise<PoolPeer[]>;
  /** The volume, or undefined when there is none of that name. */
  info(volume: string): Promise<VolumeInfo | undefined>;
  create(volume: string, replica: number, bricks: string[]): Promise<void>;
  set(volume: string, key: string, value: string): Promise<void>;
  start(volume: string, force?: boolean): Promise<void>;
  stop(volume: string): Promise<void>;
  delete(volume: string): Promise<void>;
  status(volume: string): Promise<BrickStatus[]>;
  /**
   * Starts a self-heal: of what the bricks' indices name (`index`: the writes a brick missed), or a
   * crawl of the whole volume (`full`: a brick that is new and empty).
   */
  heal(volume: string, how: 'index' | 'full'): Promise<void>;
  /** Swaps a brick for a new, empty one (its copy is rebuilt by heal). */
  replaceBrick(volume: string, from: string, to: string): Promise<void>;
  /**
   * The volumes this node's glusterd knows (no cluster lock), or those of the pool member at
   * `remoteHost` (`--remote-host`: glusterd answers read-only CLI calls over its management port).
   */
  list(remoteHost?: string): Promise<string[]>;
}

/** A CLI failure, with gluster's own words. */
export class GlusterError extends Error {}

/** The text of the first `<tag>` in `xml`. */
function tag(xml: string, name: string): string | undefined {
  return new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
}
function all(xml: string, name: string): string[] {
  return [...xml.matchAll(new RegExp(`<${name}>([\\s\\S]*?)</${name}>`, 'g'))].map((m) => m[1]);
}
function unescape(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

/** Parses `volume info --xml`. */
export function parseInfo(xml: string): VolumeInfo | undefined {
  const vol = all(xml, 'volume')[0];
  if (!vol) return undefined;
  const bricks = [...vol.matchAll(/<brick uuid="[^"]*">([^<]*)<name>/g)].map((m) => unescape(m[1]));
  const options = Object.fromEntries(all(all(vol, 'options')[0] ?? '', 'option').map((o) => [unescape(tag(o, 'name') ?? ''), unescape(tag(o, 'value') ?? '')]));
  return { name: unescape(tag(vol, 'name') ?? ''), status: tag(vol, 'statusStr') ?? '', bricks, options };
}

/** Parses `volume status <v> --xml`: the bricks (not the self-heal daemons). */
export function parseStatus(xml: string): BrickStatus[] {
  return all(xml, 'node')
    .filter((n) => !/<hostname>(Self-heal Daemon|NFS Server|Quota Daemon|Bitrot Daemon|Scrubber Daemon)/.test(n))
    .map((n) => {
      const port = Number(tag(n, 'port'));
      return { name: `${unescape(tag(n, 'hostname') ?? '')}:${unescape(tag(n, 'path') ?? '')}`, online: tag(n, 'status') === '1', port: port > 0 ? port : undefined };
    });
}

/** Parses `volume list --xml`. */
export function parseList(xml: string): string[] {
  const list = all(xml, 'volList')[0] ?? '';
  return all(list, 'volume').map(unescape);
}

/** Parses `pool list --xml`. */
export function parsePool(xml: string): PoolPeer[] {
  return all(xml, 'peer').map((p) => {
    const state = tag(p, 'stateStr');
    return { address: unescape(tag(p, 'hostname') ?? ''), connected: tag(p, 'connected') === '1', ...(state ? { state: unescape(state) } : {}) };
  }).filter((p) => p.address !== 'localhost');
}

/** The real CLI against the glusterd listening on `socket`. */
export class GlusterCommand implements GlusterCli {
  constructor(private readonly socket: string, private readonly timeoutMs = 60_000) {}

  private run(args: string[], remoteHost?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile('gluster', [remoteHost ? `--remote-host=${remoteHost}` : `--glusterd-sock=${this.socket}`, '--mode=script', ...args], { timeout: this.timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
        if (err) {
          const xmlErr = tag(stdout, 'opErrstr');
          reject(new GlusterError(`gluster ${args.join(' ')}: ${(xmlErr || stderr || stdout || err.message).trim()}`));
        } else resolve(stdout);
      });
    });
  }

  /** A read whose XML answer says whether it worked (`opRet` 0); it gives up after 15 s (a peer that stopped answering). */
  private async xml(args: string[], remoteHost?: string): Promise<string> {
    const out = await this.run(['--timeout=15', ...args, '--xml'], remoteHost);
    if (tag(out, 'opRet') !== '0') throw new GlusterError(`gluster ${args.join(' ')}: ${unescape(tag(out, 'opErrstr') ?? 'failed')}`);
    return out;
  }

  async probe(address: string): Promise<void> {
    await this.run(['peer', 'probe', address]);
  }
  async peers(remoteHost?: string) {
    return parsePool(await this.xml(['pool', 'list'], remoteHost));
  }
  async info(volume: string) {
    try {
      return parseInfo(await this.xml(['volume', 'info', volume]));
    } catch (err) {
      if (/does not exist/i.test((err as Error).message)) return undefined;
      throw err;
    }
  }
  async create(volume: string, replica: number, bricks: string[]) {
    await this.run(['volume', 'create', volume, 'replica', String(replica), ...bricks, 'force']);
  }
  async set(volume: string, key: string, value: string) {
    await this.run(['volume', 'set', volume, key, value]);
  }
  async start(volume: string, force = false) {
    await this.run(['volume', 'start', volume, ...(force ? ['force'] : [])]);
  }
  async stop(volume: string) {
    await this.run(['volume', 'stop', volume, 'force']);
  }
  async delete(volume: string) {
    await this.run(['volume', 'delete', volume]);
  }
  async status(volume: string) {
    return parseStatus(await this.xml(['volume', 'status', volume]));
  }
  async heal(volume: string, how: 'index' | 'full') {
    await this.run(['volume', 'heal', volume, ...(how === 'full' ? ['full'] : [])]);
  }
  async replaceBrick(volume: string, from: string, to: string) {
    await this.run(['volume', 'replace-brick', volume, from, to, 'commit', 'force']);
  }
  async list(remoteHost?: string) {
    return parseList(await this.xml(['volume', 'list'], remoteHost));
  }
}
