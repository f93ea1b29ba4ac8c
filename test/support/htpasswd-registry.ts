/**
 * A real Debian `docker-registry` on loopback that demands basic auth from an htpasswd file (the
 * registry's own `auth.htpasswd` module, bcrypt hashes). The hash is made by python3's crypt
 * module (Debian's libcrypt does bcrypt); no htpasswd binary is needed.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from './berth-server.ts';
import { waitFor } from './wait.ts';

export interface AuthRegistry {
  /** `127.0.0.1:PORT` */
  host: string;
  stop(): Promise<void>;
}

function bcrypt(password: string): string {
  const py = 'import crypt, sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1024)))';
  // -W ignore: crypt is deprecated (removed in Python 3.13; Debian 12 has 3.11).
  const hash = execFileSync('python3', ['-W', 'ignore', '-c', py, password]).toString().trim();
  if (!hash.startsWith('$2')) throw new Error(`python3 crypt made no bcrypt hash: ${hash}`);
  return hash;
}

export async function startHtpasswdRegistry(dir: string, user: string, password: string): Promise<AuthRegistry> {
  const port = await freePort();
  await mkdir(join(dir, 'storage'), { recursive: true });
  await writeFile(join(dir, 'htpasswd'), `${user}:${bcrypt(password)}\n`);
  const cfg = join(dir, 'config.yml');
  await writeFile(cfg, [
    'version: 0.1', 'log:', '  level: error', 'storage:', '  filesystem:', `    rootdirectory: ${join(dir, 'storage')}`,
    'auth:', '  htpasswd:', '    realm: berth-test', `    path: ${join(dir, 'htpasswd')}`, 'http:', `  addr: 127.0.0.1:${port}`, '',
  ].join('\n'));
  const proc = spawn('/usr/bin/docker-registry', ['serve', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const host = `127.0.0.1:${port}`;
  // Without credentials /v2/ answers 401 once the registry is up.
  await waitFor('the htpasswd registry', async () => {
    if (proc.exitCode !== null) throw new Error(`docker-registry exited: ${err}`);
    return (await fetch(`http://${host}/v2/`).then((r) => r.status, () => 0)) === 401;
  }, 15_000, () => err);
  return {
    host,
    stop: () => new Promise<void>((res) => {
      if (proc.exitCode !== null) return res();
      proc.on('exit', () => res());
      proc.kill('SIGTERM');
    }),
  };
}
