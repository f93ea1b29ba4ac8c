/**
 * `berth sim`: kubemark-style hollow nodes — N fake node agents in one process that register Nodes,
 * renew their Leases, and report pods bound to them as Running, without running anything. For load
 * tests of the API server, scheduler and controllers. See src/sim/README.md.
 */
import { Command } from 'commander';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../util/log.ts';

/** Options as commander hands them over. */
interface SimFlags {
  nodes: string;
  prefix: string;
  kubeconfig?: string;
  cpu: string;
  memory: string;
  pods: string;
  ephemeralStorage: string;
  taint: string[];
  label: string[];
  concurrency: string;
  leaseInterval: string;
  leaseDuration: string;
  statusInterval: string;
  reportInterval: string;
  deleteNodesOnExit?: boolean;
}

const collect = (v: string, prev: string[]) => [...prev, v];

function rssMB(): number {
  return Math.round(process.memoryUsage.rss() / 2 ** 20);
}

/** The `berth sim` sub-command. */
export function simCommand(): Command {
  return new Command('sim')
    .description('simulate N hollow nodes (kubemark-style) against a Berth or Kubernetes API server')
    .requiredOption('--nodes <n>', 'how many hollow nodes')
    .option('--prefix <name>', 'node names are <prefix>-<zero-padded index>', 'sim')
    .option('--kubeconfig <file>', 'kubeconfig of the API server (default: $KUBECONFIG, else ~/.kube/config)')
    .option('--cpu <quantity>', 'cpu capacity per node', '4')
    .option('--memory <quantity>', 'memory capacity per node', '16Gi')
    .option('--pods <n>', 'pod capacity per node', '110')
    .option('--ephemeral-storage <quantity>', 'ephemeral-storage capacity per node', '100Gi')
    .option('--taint <key=value:Effect>', 'taint the nodes get when created (repeatable)', collect, [])
    .option('--label <k=v>', 'extra node label (repeatable)', collect, [])
    .option('--concurrency <n>', 'API requests in flight at most per write lane (node writes: registration, Leases, heartbeats; pod writes: status, deletes — they wait while node writes queue)', '50')
    .option('--lease-interval <seconds>', 'Lease renewal period; past 2 s give `berth server --node-monitor-grace-period` at least 4× it (Kubernetes: 10 s renewals, 40 s grace)', '2')
    .option('--lease-duration <seconds>', "the Lease's spec.leaseDurationSeconds (default: 5× the renewal period, at least 10)")
    .option('--status-interval <seconds>', 'node status heartbeat period (the kubelet reports an unchanged status every 5 min; the Lease is the heartbeat)', '300')
    .option('--report-interval <seconds>', 'print a line of Lease lateness, NotReady nodes and pods waiting for status this often (0: never)', '60')
    .option('--delete-nodes-on-exit', 'delete the Nodes when stopping (default: leave them to go NotReady)')
    .action(async (o: SimFlags) => {
      const log = createLogger();
      const cfgMod = await import('../sim/sim-config.ts');
      let config;
      try {
        cfgMod.validatePrefix(o.prefix);
        config = {
          nodes: cfgMod.parsePositiveInt(o.nodes, '--nodes'),
          prefix: o.prefix, cpu: o.cpu, memory: o.memory, ephemeralStorage: o.ephemeralStorage,
          pods: cfgMod.parsePositiveInt(o.pods, '--pods'),
          concurrency: cfgMod.parsePositiveInt(o.concurrency, '--concurrency'),
          taints: o.taint.map(cfgMod.parseTaint),
          labels: Object.fromEntries(o.label.map(cfgMod.parseLabel)),
          deleteNodesOnExit: o.deleteNodesOnExit === true,
          ...cfgMod.parseLeaseTiming(o.leaseInterval, o.leaseDuration, o.statusInterval),
        };
      } catch (err) {
        log.error((err as Error).message);
        process.exit(2);
      }
      const kubeconfig = o.kubeconfig ?? process.env.KUBECONFIG?.split(':')[0] ?? join(homedir(), '.kube', 'config');
      const { HttpClient } = await import('../client/http-client.ts');
      const { startSimulator } = await import('../sim/simulator.ts');
      let client, podClient;
      try {
        // One client a lane, so pod status writes never hold the sockets Lease renewals need (+2: the informer's list and watch).
        client = HttpClient.fromKubeconfig(kubeconfig, undefined, { maxSockets: config.concurrency + 2 });
        podClient = HttpClient.fromKubeconfig(kubeconfig, undefined, { maxSockets: config.concurrency + 2 });
      } catch (err) {
        log.error('cannot read kubeconfig', { kubeconfig, error: (err as Error).message });
        process.exit(1);
      }
      const t0 = performance.now();
      const step = config.nodes >= 5000 ? 1000 : config.nodes >= 1000 ? 500 : 0;
      const reportS = Number(o.reportInterval);
      if (!Number.isFinite(reportS) || reportS < 0) { log.error(`--report-interval must be a number of seconds ≥ 0, got "${o.reportInterval}"`); process.exit(2); }
      const sim = startSimulator({
        client, podClient, config, log,
        onRegistered: (done, total) => {
          if (step && done % step === 0 && done < total) process.stdout.write(`registered ${done}/${total} nodes…\n`);
        },
      });
      const shutdown = (signal: string) => {
        log.info(config.deleteNodesOnExit ? 'stopping; deleting the nodes' : 'stopping; the nodes stay and go NotReady when their leases expire', { signal });
        sim.stop().then(() => { client.close(); podClient.close(); process.exit(0); }, (err) => { log.error('stop failed', { error: String(err) }); process.exit(1); });
      };
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
      if (reportS > 0) {
        const { simReport } = await import('../sim/sim-report.ts');
        let last = performance.now();
        setInterval(() => {
          const now = performance.now();
          process.stdout.write(`${simReport(sim.stats, (now - last) / 1000)}\n`);
          last = now;
        }, reportS * 1000).unref();
      }
      await sim.registered;
      const secs = ((performance.now() - t0) / 1000).toFixed(1);
      const failed = sim.stats.registrationFailures ? ` (${sim.stats.registrationFailures} failed; retried by the heartbeat)` : '';
      process.stdout.write(`registered ${sim.stats.registered}/${config.nodes} nodes${failed}\n`
        + `Berth sim ready: ${sim.stats.registered} hollow nodes ${config.prefix}-* in ${secs} s, rss ${rssMB()} MB; `
        + `leases every ${sim.config.leaseIntervalMs / 1000} s, status every ${sim.config.statusIntervalMs / 1000} s\n`);
    });
}
