/**
 * The proxy's only contact with the kernel: runs `nft -f -` (and sysctl) directly or inside a
 * network namespace (`ip netns exec NS …`, used by the tests and the benchmark).
 */
import { runCommand } from '../host/spawner.ts';

export interface NftRunnerOptions {
  /** Run inside this named network namespace. */
  netns?: string;
  /** Or: any command prefix, e.g. `['nsenter', '-t', '123', '-n']`. */
  commandPrefix?: string[];
}

export class NftRunner {
  private readonly prefix: string[];

  constructor(opts: NftRunnerOptions = {}) {
    this.prefix = opts.commandPrefix ?? (opts.netns ? ['ip', 'netns', 'exec', opts.netns] : []);
  }

  private async exec(args: string[], input?: string): Promise<string> {
    const [file, ...rest] = [...this.prefix, ...args];
    const r = await runCommand(file, rest, { input, timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr.trim().split('\n').slice(0, 6).join(' | ') || `exit ${r.code}`}`);
    return r.stdout;
  }

  /** Applies a script as one transaction; nothing changes when any line fails. */
  async apply(script: string): Promise<void> {
    if (script) await this.exec(['nft', '-f', '-'], script);
  }

  /** `nft list table ip NAME`, or undefined when there is no such table. */
  async listTable(table: string): Promise<string | undefined> {
    try {
      return await this.exec(['nft', 'list', 'table', 'ip', table]);
    } catch (err) {
      if (/No such file or directory/.test((err as Error).message)) return undefined;
      throw err;
    }
  }

  /**
   * `conntrack ARGS` (Debian package conntrack). Deleting nothing is not an error (conntrack exits 1
   * with "0 flow entries have been deleted"); a missing binary rejects with `cannot run conntrack`.
   */
  async conntrack(args: string[]): Promise<void> {
    const [file, ...rest] = [...this.prefix, 'conntrack', ...args];
    const r = await runCommand(file, rest, { timeoutMs: 30_000 });
    if (r.code !== 0 && !/0 flow entries have been deleted/.test(r.stderr)) throw new Error(`conntrack ${args.join(' ')} failed: ${r.stderr.trim() || `exit ${r.code}`}`);
  }

  /** `sysctl -n key`. */
  async sysctlRead(key: string): Promise<string> {
    return this.exec(['sysctl', '-n', key]);
  }

  /** `sysctl -w key=value`. */
  async sysctl(key: string, value: string): Promise<void> {
    await this.exec(['sysctl', '-q', '-w', `${key}=${value}`]);
  }
}
