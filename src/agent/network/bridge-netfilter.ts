/**
 * br_netfilter for Berth's bridge: when a pod reaches a ClusterIP that the service proxy DNATs to
 * another pod on the same bridge, the reply crosses the bridge at layer 2; only with br_netfilter
 * (and bridge-nf-call-iptables) does it pass conntrack and get un-NATed. Best effort: a kernel
 * without the module keeps pod → own-node-service traffic working through the gateway only.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { runCommand } from '../../host/spawner.ts';
import type { Logger } from '../../util/log.ts';

const SYSCTL = '/proc/sys/net/bridge/bridge-nf-call-iptables';

export async function ensureBridgeNetfilter(log: Logger): Promise<boolean> {
  let value = await readFile(SYSCTL, 'utf8').catch(() => undefined);
  if (value === undefined) {
    await runCommand('modprobe', ['br_netfilter']).catch(() => undefined);
    value = await readFile(SYSCTL, 'utf8').catch(() => undefined);
  }
  if (value === undefined) {
    log.warn('br_netfilter is not available: a pod reaching a Service whose endpoint is on the same bridge may see un-NATed replies');
    return false;
  }
  if (value.trim() !== '1') await writeFile(SYSCTL, '1\n');
  return true;
}
