/**
 * Node IPAM: gives every Node a pod range (spec.podCIDR and spec.podCIDRs) out of the cluster CIDR —
 * kube-controller-manager's node-ipam-controller with the RangeAllocator
 * (pkg/controller/nodeipam/ipam/range_allocator.go). Before the first allocation the ranges of every
 * existing Node are marked occupied (a restarted or newly elected controller never hands out a range
 * twice); a Node without one gets the next free range by a patch of its spec; a deleted Node's range
 * goes back to the pool. When the pool is empty the Node gets the event `CIDRNotAvailable` and is
 * retried with back-off (a deleted Node frees a range). Keys are node names; one worker, since
 * allocation is serial. Without a cluster CIDR (no --cluster-cidr) it allocates nothing.
 */
import { cidrsOverlap, formatCidr, parseCidr } from '../../apis/cidr.ts';
import type { KubeObject } from '../../apis/object.ts';
import { R, type Client } from '../../client/client.ts';
import { enqueueHandlers, runController, type RunningController } from '../../client/controller.ts';
import type { ObjectKey, Reconciler } from '../../client/controller-types.ts';
import { isNotFound } from '../../client/errors.ts';
import type { InformerFactory } from '../../client/informer-factory.ts';
import type { SharedInformer } from '../../client/informer.ts';
import { RateLimitedQueue } from '../../client/work-queue.ts';
import type { Logger } from '../../util/log.ts';
import { controllerEvents, type ControllerEvents, type SharedEventRecorder } from '../controller-utils.ts';
import { CidrSet, CidrSetFullError } from './cidr-set.ts';

const COMPONENT = 'node-ipam-controller';
/** kube-controller-manager's --node-cidr-mask-size default for IPv4. */
export const DEFAULT_NODE_CIDR_MASK_SIZE = 24;

export interface NodeIpamOptions {
  /** The cluster's pod range (--cluster-cidr); undefined: the controller allocates nothing. */
  clusterCidr?: string;
  /** Prefix length of each node's range (--node-cidr-mask-size); default 24. */
  nodeCidrMaskSize?: number;
  /** The service range: when it overlaps the cluster CIDR, its part is never handed out. */
  serviceCidr?: string;
  recorder?: SharedEventRecorder;
}

/** A node's pod ranges as its spec names them (podCIDRs, else the legacy podCIDR). */
export function nodePodCidrs(node: KubeObject): string[] {
  const list: unknown = node.spec?.podCIDRs;
  if (Array.isArray(list) && list.length) return list.filter((c): c is string => typeof c === 'string');
  return typeof node.spec?.podCIDR === 'string' && node.spec.podCIDR ? [node.spec.podCIDR] : [];
}

export class NodeIpamController implements Reconciler {
  readonly name = COMPONENT;
  readonly queue = new RateLimitedQueue();
  private readonly nodes: SharedInformer;
  private readonly events: ControllerEvents;
  private readonly set?: CidrSet;
  /** What this controller counts as each node's: ranges occupied or allocated by name. */
  private readonly held = new Map<string, string[]>();
  private initialized = false;

  constructor(private readonly client: Client, factory: InformerFactory, private readonly log: Logger | undefined, private readonly opts: NodeIpamOptions = {}) {
    this.nodes = factory.forResource(R.nodes);
    this.nodes.addHandlers(enqueueHandlers(this.queue));
    this.events = controllerEvents(client, COMPONENT, opts.recorder, log);
    if (opts.clusterCidr) {
      this.set = new CidrSet(opts.clusterCidr, opts.nodeCidrMaskSize ?? DEFAULT_NODE_CIDR_MASK_SIZE);
      // Upstream's filterOutServiceRange: a service range inside the cluster CIDR is never a node's.
      if (opts.serviceCidr && cidrsOverlap(this.set.cluster, parseCidr(opts.serviceCidr))) this.set.occupy(opts.serviceCidr);
    }
  }

  run(workers = 1): RunningController {
    return runController(this, this.queue, { workers, log: this.log });
  }

  /** Ranges in use, for tests and logs. */
  get allocated(): number {
    return this.set?.allocatedCount ?? 0;
  }

  /** Marks every existing Node's range before the first allocation (the informer has synced then). */
  private async initialize(set: CidrSet): Promise<void> {
    if (this.initialized) return;
    await this.nodes.synced();
    for (const node of this.nodes.list()) this.occupy(set, node);
    this.initialized = true;
    this.log?.info('node ranges marked', { clusterCidr: formatCidr(set.cluster), maskSize: set.maskSize, occupied: set.allocatedCount });
  }

  /** Records a node's existing ranges as taken; ranges outside the cluster CIDR are the node's own business. */
  private occupy(set: CidrSet, node: KubeObject): void {
    const name = node.metadata.name!;
    const cidrs = nodePodCidrs(node);
    const prev = this.held.get(name);
    if (prev && prev.join() === cidrs.join()) return;
    if (prev) for (const c of prev) this.releaseQuietly(set, c);
    const mine: string[] = [];
    for (const c of cidrs) {
      try {
        if (!cidrsOverlap(set.cluster, parseCidr(c))) {
          this.log?.debug('node range outside the cluster CIDR; not tracked', { node: name, podCIDR: c });
          continue;
        }
        set.occupy(c);
        mine.push(c);
      } catch (err) {
        this.log?.warn('node range not understood; ignored', { node: name, podCIDR: c, error: (err as Error).message });
      }
    }
    this.held.set(name, mine);
  }

  private releaseQuietly(set: CidrSet, cidr: string): void {
    try { set.release(cidr); } catch { /* outside the set: never occupied */ }
  }

  async reconcile(name: ObjectKey): Promise<void> {
    const set = this.set;
    if (!set) return;
    await this.initialize(set);
    const node = this.nodes.get(name);
    if (!node) {
      // Deleted: its range goes back (upstream's ReleaseCIDR on delete).
      const prev = this.held.get(name);
      this.held.delete(name);
      if (prev?.length) {
        for (const c of prev) this.releaseQuietly(set, c);
        this.log?.info('node range released', { node: name, podCIDR: prev.join(',') });
      }
      return;
    }
    if (nodePodCidrs(node).length) {
      this.occupy(set, node);
      return;
    }
    // Allocated already and the patch is not in the cache yet (or the Node was recreated under the
    // same name before we saw the delete): the same range again, never a second one.
    let cidr = this.held.get(name)?.[0];
    if (!cidr) {
      try {
        cidr = set.allocateNext();
      } catch (err) {
        if (!(err instanceof CidrSetFullError)) throw err;
        void this.events.event(node, 'Normal', 'CIDRNotAvailable', `Node ${name} status is now: CIDRNotAvailable`);
        throw new Error(`no pod range left for node ${name}: ${err.message}`);
      }
      this.held.set(name, [cidr]);
    }
    try {
      await this.client.patch(R.nodes, undefined, name, 'merge', { spec: { podCIDR: cidr, podCIDRs: [cidr] } });
      this.log?.info('node range allocated', { node: name, podCIDR: cidr });
    } catch (err) {
      if (isNotFound(err)) {
        this.held.delete(name);
        this.releaseQuietly(set, cidr);
        return;
      }
      void this.events.event(node, 'Warning', 'CIDRAssignmentFailed', `Node ${name}: failed to set pod range ${cidr}: ${(err as Error).message}`);
      // Keep holding it: the retry patches the same range (a conflict with a range set meanwhile is
      // resolved on the next event, which occupies the Node's own).
      throw err;
    }
  }
}
