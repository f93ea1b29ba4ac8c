/**
 * The agent server's view of pods (its StreamResolver, ../streams/agent-server.ts), answered from
 * the pod workers: (namespace, pod, container) → the worker's current instance of the container,
 * its driver and log file — what the kubelet's streaming server asks its container runtime. The
 * errors are the kubelet's: 404 for a pod not on this node, 400 for a container not running.
 */
import { PassThrough } from 'node:stream';
import { errors } from '../../errors/index.ts';
import type { ExecOptions } from '../runtime/driver.ts';
import { DEFAULT_NETNS_PREFIX, netnsExists, netnsName, netnsPath } from '../network/netns.ts';
import type { AttachIO, StreamResolver } from '../streams/agent-server.ts';
import { feedStdin } from '../streams/attach-stdin.ts';
import { readLogs } from '../streams/log-reader.ts';
import type { Instance } from './instance.ts';
import type { TableWorker } from './worker-table.ts';

/** Where the resolver finds workers: the worker table. */
export interface WorkerLookup {
  byName(namespace: string, pod: string): TableWorker | undefined;
}

/** A running instance with the driver it runs on. */
type RunningInstance = Instance & Required<Pick<Instance, 'driver' | 'id'>>;

export class WorkerStreamResolver implements StreamResolver {
  /** `netnsPrefix`: the prefix of this agent's PodNetwork (one per bridge, see netnsPrefixFor). */
  constructor(private readonly workers: WorkerLookup, private readonly netnsPrefix = DEFAULT_NETNS_PREFIX) {}

  private worker(ns: string, pod: string): TableWorker {
    const w = this.workers.byName(ns, pod);
    if (!w) throw errors.notFound('', 'pods', pod);
    return w;
  }

  private running(w: TableWorker | undefined, pod: string, container: string): RunningInstance {
    const inst = w?.instance(container);
    if (!inst?.running || !inst.driver || !inst.id) throw errors.badRequest(`container ${container} is not running in pod ${pod}`);
    return inst as RunningInstance;
  }

  async logPath(ns: string, pod: string, container: string, previous: boolean): Promise<string> {
    const p = this.worker(ns, pod).logPath(container, previous);
    if (!p) throw errors.badRequest(previous ? `previous terminated container "${container}" in pod "${pod}" not found` : `container "${container}" in pod "${pod}" is waiting to start: ContainerCreating`);
    return p;
  }

  async exec(ns: string, pod: string, container: string, opts: ExecOptions): Promise<number> {
    const inst = this.running(this.workers.byName(ns, pod), pod, container);
    return inst.driver.exec(inst.id, opts);
  }

  async containerExited(ns: string, pod: string, container: string): Promise<void> {
    const inst = this.workers.byName(ns, pod)?.instance(container);
    if (inst?.running && inst.driver && inst.id) await inst.driver.wait(inst.id).catch(() => {});
  }

  async attach(ns: string, pod: string, container: string, o: { stdin: boolean; tty: boolean }): Promise<(io: AttachIO) => Promise<void>> {
    const w = this.worker(ns, pod);
    const inst = this.running(w, pod, container);
    const { driver, id } = inst;
    // stdin: the container's own, a FIFO kept open when the container has `stdin: true`.
    const fifo = o.stdin && inst.spec.stdin ? driver.stdinPath?.(id) : undefined;
    if (o.stdin && !fifo) throw errors.badRequest(`container ${container} in pod ${pod} was not started with stdin: true, so its stdin cannot be attached; use kubectl attach without -i, or kubectl exec -i`);
    const file = w.logPath(container, false)!;
    // Output from now on, by record time (what stdin makes the command print comes after this
    // moment however fast it answers), until the instance exits or the client leaves.
    return (io) => {
      const sinceTime = new Date().toISOString();
      const once = !!inst.spec.stdinOnce && !inst.spec.tty;
      if (fifo && io.stdin) feedStdin(io.stdin, fifo, io.signal, once ? () => driver.releaseStdin?.(id) : undefined);
      if (inst.spec.tty) io.onResize?.((size) => driver.resize?.(id, size));
      return readLogs(file, { follow: true, sinceTime, until: driver.wait(id), stderr: io.stderr }, io.stdout ?? new PassThrough().resume(), io.signal);
    };
  }

  async portForwardTarget(ns: string, pod: string): Promise<{ uid: string; netnsPath?: string }> {
    const w = this.worker(ns, pod);
    if (!(w.pod.spec?.containers ?? []).some((c: { name: string }) => w.instance(c.name)?.running)) {
      throw errors.badRequest(`unable to forward port because pod is not running`);
    }
    if (w.pod.spec?.hostNetwork) return { uid: w.uid };
    // The pod network's namespace, named as this agent's PodNetwork names it.
    const name = netnsName(w.uid, this.netnsPrefix);
    if (!netnsExists(name)) throw errors.badRequest(`pod ${pod} has no network namespace`);
    return { uid: w.uid, netnsPath: netnsPath(name) };
  }
}
