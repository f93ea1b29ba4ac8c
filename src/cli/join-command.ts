/**
 * `berth join --server URL --token-file F | --token T`: this machine becomes a node of a running
 * cluster (kubeadm join's discovery and TLS bootstrap, k3s agent's token): the server's CA is read
 * from its handshake and checked against the token's hash, a CSR for system:node:<name> is sent with
 * the bootstrap token and approved by the server, and the agent runs with the certificate it got
 * (<data dir>/kubeconfig and pki/client.*; a later join or `berth agent --kubeconfig` reuses them,
 * and the agent renews them itself). Takes every `berth agent` option.
 */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { createLogger } from '../util/log.ts';
import { addAgentOptions, nodeNameOf, runAgent, type AgentCliOptions } from './agent-command.ts';
import { handleStopSignals } from './stop-signals.ts';

interface JoinCliOptions extends AgentCliOptions {
  server: string[];
  token?: string;
  tokenFile?: string;
}

/** The join token from --token or --token-file; exactly one of them. */
function tokenText(o: JoinCliOptions): string {
  if (!!o.token === !!o.tokenFile) throw new Error('give the join token with exactly one of --token or --token-file');
  if (o.token) return o.token;
  try {
    return readFileSync(o.tokenFile!, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the join token: ${(err as Error).message}`);
  }
}

export function joinCommand(): Command {
  const cmd = new Command('join')
    .description("join this machine to a running Berth cluster as a node (with the server's join token, DATA/join-token)")
    .requiredOption('--server <url...>', 'the API server, e.g. https://10.0.0.1:6443; several (comma-separated or repeated): the agent fails over between them')
    .option('--token <token>', 'the join token (K10<CA hash>::<id>.<secret>)')
    .option('--token-file <file>', "a file holding the join token (the server's DATA/join-token)");
  return addAgentOptions(cmd)
    .action(async (o: JoinCliOptions) => {
      const log = createLogger();
      const signals = handleStopSignals(log, 'stopping (pods keep running; they are re-adopted on the next start)');
      try {
        const servers = o.server.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean).map((s) => {
          const u = new URL(s);
          if (u.protocol !== 'https:') throw new Error(`--server must be an https URL, got ${s}`);
          return u.origin;
        });
        const server = new URL(servers[0]);
        const { parseJoinToken } = await import('../auth/bootstrap/join-token.ts');
        const { joinCluster } = await import('../agent/node/node-bootstrap.ts');
        const token = parseJoinToken(tokenText(o));
        const kubeconfig = await joinCluster({ server: server.origin, servers, token, nodeName: nodeNameOf(o), dir: o.dataDir, log });
        process.stdout.write(`Joined the cluster at ${server.origin} as node ${nodeNameOf(o)} (credential: ${kubeconfig}).\n`);
        await runAgent(kubeconfig, o, log, signals);
      } catch (err) {
        log.error('cannot join', { error: (err as Error).message });
        process.stderr.write(`berth join: ${(err as Error).message}\n`);
        process.exit(1);
      }
    });
}
