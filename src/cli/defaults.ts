/** Default paths and addresses shared by the sub-commands. */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';

/** `/var/lib/berth` for root, `~/.local/share/berth` otherwise. */
export function defaultDataDir(): string {
  if (process.getuid?.() === 0) return '/var/lib/berth';
  return join(process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'berth');
}

export const DEFAULT_LISTEN = '127.0.0.1:6443';

/** Parses HOST:PORT (IPv6 hosts in brackets). */
export function parseListen(value: string): { host: string; port: number } {
  const m = value.match(/^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/);
  if (!m) throw new Error(`--listen must be HOST:PORT, got ${JSON.stringify(value)}`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`--listen port out of range: ${port}`);
  return { host: m[1] ?? m[2], port };
}

/** A `--flag=true|false` value, as kube-apiserver's boolean flags take them (`--watch-cache=false`). */
export function parseBoolFlag(value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new InvalidArgumentError('expected true or false');
}
