/**
 * A pod's sandbox: its network namespace and address (or the host's, for hostNetwork pods) and its
 * own /etc/hosts and resolv.conf.
 *
 * The CNI ADD (~50 ms of plugin runs) is not waited for when nothing needs the pod IP before the
 * containers start: the sandbox is returned once the namespace exists, with `ready` pending, so the
 * first container is created (image, rootfs, `runc create`) while the network is set up, as CRI
 * runtimes overlap them; its process starts once `ready` resolves (the driver's startGate). A pod
 * whose spec reads `status.podIP(s)` (env or downward API) waits for the network first.
 */
import type { KubeObject } from '../../apis/object.ts';
import { rewriteHostsFile, writePodEtcFiles } from '../network/etc-files.ts';
import { SandboxNetworkError, type SandboxInfo } from './container-spec.ts';
import type { WorkerDeps } from './worker-deps.ts';

export async function createSandbox(pod: KubeObject, deps: WorkerDeps): Promise<SandboxInfo> {
  const dns = { clusterDNS: deps.clusterDNS, clusterDomain: deps.clusterDomain };
  if (pod.spec?.hostNetwork) {
    const files = await writePodEtcFiles(deps.dataDir, pod as never, deps.hostIP, dns);
    return { ip: deps.hostIP, hostsPath: files.hostsPath, resolvConfPath: files.resolvConfPath };
  }
  const ref = { uid: pod.metadata.uid!, name: pod.metadata.name!, namespace: pod.metadata.namespace! };
  if (JSON.stringify(pod.spec ?? {}).includes('status.podIP')) {
    const net = await deps.network.setup(ref);
    const files = await writePodEtcFiles(deps.dataDir, pod as never, net.ip, dns);
    return { netnsPath: net.netnsPath, ip: net.ip, hostsPath: files.hostsPath, resolvConfPath: files.resolvConfPath };
  }
  let netnsMade!: (path: string) => void;
  const netns = new Promise<string>((resolve) => (netnsMade = resolve));
  const setup = deps.network.setup(ref, { onNetns: netnsMade });
  // The namespace (a failed setup rejects here, before any container exists).
  const viaSetup = setup.then((n) => n.netnsPath);
  viaSetup.catch(() => undefined); // a later failure is `ready`'s
  const netnsPath = await Promise.race([netns, viaSetup]);
  // /etc/hosts without the pod's own line for now: it is completed in place (the same inode, which
  // a container created meanwhile has bind-mounted) before any container process runs.
  const files = await writePodEtcFiles(deps.dataDir, pod as never, undefined, dns);
  const sandbox: SandboxInfo = { netnsPath, hostsPath: files.hostsPath, resolvConfPath: files.resolvConfPath };
  sandbox.ready = setup.then(
    async (net) => {
      await rewriteHostsFile(files.hostsPath, pod as never, net.ip, deps.clusterDomain);
      sandbox.ip = net.ip;
    },
    (err: Error) => { throw new SandboxNetworkError(err); },
  );
  sandbox.ready.catch(() => undefined); // observed by the worker (and the drivers, through startGate)
  return sandbox;
}
