/**
 * A pod's sandbox: its network namespace and address (or the host's, for hostNetwork pods) and its
 * own /etc/hosts and resolv.conf.
 */
import type { KubeObject } from '../../apis/object.ts';
import { writePodEtcFiles } from '../network/etc-files.ts';
import type { SandboxInfo } from './container-spec.ts';
import type { WorkerDeps } from './worker-deps.ts';

export async function createSandbox(pod: KubeObject, deps: WorkerDeps): Promise<SandboxInfo> {
  let sandbox: SandboxInfo;
  if (pod.spec?.hostNetwork) sandbox = { ip: deps.hostIP };
  else {
    const net = await deps.network.setup({ uid: pod.metadata.uid!, name: pod.metadata.name!, namespace: pod.metadata.namespace! });
    sandbox = { netnsPath: net.netnsPath, ip: net.ip };
  }
  const files = await writePodEtcFiles(deps.dataDir, pod as never, sandbox.ip!, { clusterDNS: deps.clusterDNS, clusterDomain: deps.clusterDomain });
  return { ...sandbox, hostsPath: files.hostsPath, resolvConfPath: files.resolvConfPath };
}
