/**
 * `berth lab up|down|kill|partition|heal|restart`: a multi-node cluster on this one machine (kind's
 * and k3d's job), with network namespaces as hosts on a private bridge (src/lab).
 */
import { Command, Option } from 'commander';
import { existsSync } from 'node:fs';
import { createLogger } from '../util/log.ts';
import { defaultDataDir } from './defaults.ts';

const DEFAULT_LAB_DIR = `${defaultDataDir()}/lab`;

/** Runs `fn`; on failure prints `berth lab <what>: message` and exits 1. */
async function guarded(what: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    process.stderr.write(`berth lab ${what}: ${(err as Error).message}\n`);
    process.exit(1);
  }
}

/** A timer flag's value (undefined: not given, the server's default). */
function seconds(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${JSON.stringify(v)} is not a number of seconds`);
  return n;
}

function upCommand(): Command {
  return new Command('up')
    .description('make a lab: N hosts (network namespaces on a private bridge) joined to a server; returns once every Node is Ready')
    .option('--nodes <n>', 'how many hosts', '3')
    .option('--data-dir <dir>', 'where the lab keeps its state, logs, kubeconfig', DEFAULT_LAB_DIR)
    .addOption(new Option('--backend <backend>', 'the pod network across hosts (berth join --backend)').choices(['host-gw', 'vxlan']))
    .option('--storage', 'every host runs a storage daemon (berth join --storage)')
    .option('--dns-upstream <ip[:port]>', "the cluster DNS's forwarder (berth server/join --dns-upstream)")
    .option('--node-monitor-grace-period <seconds>', "the server's grace before a silent node is NotReady")
    .option('--default-not-ready-toleration-seconds <seconds>', "the server's default toleration of the not-ready taint")
    .option('--default-unreachable-toleration-seconds <seconds>', "the server's default toleration of the unreachable taint")
    .option('--replica-rebuild-delay <seconds>', "the server's wait before a replica on a node that is not Ready is rebuilt elsewhere")
    .option('--timeout <seconds>', 'how long to wait for the Nodes to be Ready', '120')
    .action((o: { nodes: string; dataDir: string; backend?: 'host-gw' | 'vxlan'; storage?: boolean; dnsUpstream?: string; nodeMonitorGracePeriod?: string; defaultNotReadyTolerationSeconds?: string; defaultUnreachableTolerationSeconds?: string; replicaRebuildDelay?: string; timeout: string }) => guarded('up', async () => {
      const log = createLogger();
      const { assertRoot, labUp } = await import('../lab/lab-up.ts');
      const { withLabLock } = await import('../lab/lab-state.ts');
      assertRoot();
      const t0 = performance.now();
      const state = await withLabLock(o.dataDir, () => labUp({
        dataDir: o.dataDir, nodes: Number(o.nodes), backend: o.backend, storage: o.storage, dnsUpstream: o.dnsUpstream,
        nodeMonitorGracePeriod: seconds(o.nodeMonitorGracePeriod), defaultNotReadyTolerationSeconds: seconds(o.defaultNotReadyTolerationSeconds),
        defaultUnreachableTolerationSeconds: seconds(o.defaultUnreachableTolerationSeconds), replicaRebuildDelay: seconds(o.replicaRebuildDelay),
        readyTimeoutMs: Number(o.timeout) * 1000, log,
      }));
      process.stdout.write(`Lab ${state.id} is up: ${state.nodes.length} nodes Ready in ${((performance.now() - t0) / 1000).toFixed(1)} s (server ${state.serverUrl}, hosts ${state.nodes.map((n) => `${n.name} ${n.address}`).join(', ')}).\n`
        + `  export KUBECONFIG=${state.kubeconfig}\n  berth lab down --data-dir ${state.dataDir}\n`);
    }));
}

function downCommand(): Command {
  return new Command('down')
    .description('remove every process, namespace, link, cgroup and mount of the lab (its logs stay)')
    .option('--data-dir <dir>', 'the lab', DEFAULT_LAB_DIR)
    .action((o: { dataDir: string }) => guarded('down', async () => {
      const { labDown } = await import('../lab/lab-down.ts');
      const { withLabLock } = await import('../lab/lab-state.ts');
      const removed = existsSync(o.dataDir) ? await withLabLock(o.dataDir, () => labDown({ dataDir: o.dataDir, log: createLogger() })) : undefined;
      process.stdout.write(removed === undefined ? `No lab in ${o.dataDir}: nothing to do.\n` : `Lab in ${o.dataDir} is down (${removed.length} things removed).\n`);
    }));
}

function failureCommand(name: 'kill' | 'partition' | 'heal' | 'restart', description: string): Command {
  const cmd = new Command(name)
    .description(description)
    .argument('<node>', 'node-<i> (or just i)')
    .option('--data-dir <dir>', 'the lab', DEFAULT_LAB_DIR);
  if (name === 'restart') cmd.option('--timeout <seconds>', 'how long to wait for the Node to be Ready', '120');
  return cmd.action((node: string, o: { dataDir: string; timeout?: string }) => guarded(name, async () => {
    const { runFailureCommand } = await import('../lab/lab-failures.ts');
    const { withLabLock } = await import('../lab/lab-state.ts');
    if (!existsSync(o.dataDir)) throw new Error(`no lab in ${o.dataDir}`);
    const line = await withLabLock(o.dataDir, () => runFailureCommand(name, { dataDir: o.dataDir, node, log: createLogger(), readyTimeoutMs: o.timeout ? Number(o.timeout) * 1000 : undefined }));
    process.stdout.write(line + '\n');
  }));
}

export function labCommand(): Command {
  return new Command('lab')
    .description('a multi-node cluster on this machine: hosts are network namespaces on a private bridge (198.18.0.0/15)')
    .addCommand(upCommand())
    .addCommand(downCommand())
    .addCommand(failureCommand('kill', "pull the host's cable and kill every process of it (agent, pods, containers)"))
    .addCommand(failureCommand('partition', "pull the host's cable; its processes keep running"))
    .addCommand(failureCommand('heal', "plug the host's cable back in"))
    .addCommand(failureCommand('restart', "after kill: plug the cable in and start the host's agent again; returns once the Node is Ready"));
}
