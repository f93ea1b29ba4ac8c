/**
 * What a controller is to the process that runs it (kube-controller-manager's ControllerDescriptor
 * and ControllerContext, cmd/kube-controller-manager/app/controller_descriptor.go): a name, what it
 * watches, how many workers, and a constructor over one shared context — so a new controller is one
 * entry in descriptors.ts. Every controller built this way runs on the shared reconcile loop
 * (client/controller.ts: informer handlers → keys → RateLimitedQueue → reconcile).
 */
import type { ResourceInfo } from '../apis/resources.ts';
import type { Client, ResourceRef } from '../client/client.ts';
import type { RunningController } from '../client/controller.ts';
import type { InformerFactory, InformerScope } from '../client/informer-factory.ts';
import type { Registry } from '../registry/registry.ts';
import type { AgentTls } from '../api/proxy/pod-stream-proxy.ts';
import type { Logger } from '../util/log.ts';
import type { SharedEventRecorder } from './controller-utils.ts';
import type { Clock } from './cronjob/clock.ts';
import type { ClusterSigning } from './certificates/csr-signing-controller.ts';
import type { TokensControllerOptions } from './serviceaccount-tokens/tokens-controller.ts';

/** Settings some controllers read; every field has a default. */
export interface ControllerSettings {
  /** Seconds without a node heartbeat before the node is Unknown; default 20. */
  nodeGracePeriodSeconds?: number;
  /** "Now" for the CronJob, Job and node lifecycle controllers; default the real clock. */
  clock?: Clock;
  /** Job pod back-off; default 10 s doubling to 6 min. */
  jobBackoff?: { baseMs: number; maxMs: number };
  /** The CA the CSR signer signs with (--cluster-signing-cert/key-file); without it, approved CSRs stay unsigned. */
  clusterSigning?: ClusterSigning;
  /** The pod range node IPAM cuts node ranges from (--cluster-cidr); without it no Node gets one. */
  clusterCidr?: string;
  /** Prefix length of each node's pod range (--node-cidr-mask-size); default 24. */
  nodeCidrMaskSize?: number;
  /** The service range (node IPAM never hands out a part of it). */
  serviceCidr?: string;
  /** Terminated pods the pod GC keeps (--terminated-pod-gc-threshold); default 12,500, ≤ 0 never by count. */
  terminatedPodGcThreshold?: number;
  /** Seconds a replica on a node that is not Ready waits before it is rebuilt elsewhere (--replica-rebuild-delay); default 30. */
  replicaRebuildDelaySeconds?: number;
  /** How to reach node agents (CA, kubelet-client certificate): the HPA controller reads their metrics. */
  agentTls?: () => AgentTls;
}

/** What every controller is built from; one per controller manager, shared by all its controllers. */
export interface ControllerContext {
  client: Client;
  /** The one factory: controllers watching the same resource share one informer (one cache). */
  factory: InformerFactory;
  /** The manager's logger; each controller gets a child named after it. */
  log: Logger;
  /** The resources the API serves (discovery), for controllers that act on every kind (GC, namespaces). */
  resources: readonly ResourceInfo[];
  /**
   * The in-process registry, only for what the Client cannot do yet: the `namespaces/finalize`
   * subresource. Everything else goes through `client`.
   */
  registry: Registry;
  /** The manager's event recorder, shared by its controllers (one aggregation cache); without it each makes its own. */
  recorder?: SharedEventRecorder;
  /**
   * The cluster CA and the ServiceAccount token signer: the root-ca publisher puts the CA in every
   * namespace, the tokens controller fills token Secrets. Absent (no cluster PKI), those two do nothing.
   */
  serviceAccountTokens?: TokensControllerOptions;
  settings: ControllerSettings;
}

/** A built controller: informer handlers registered; `run` starts its workers on its queue(s). */
export interface Controller {
  run(workers: number): RunningController;
}

/** A resource a controller watches through the factory (scope as in {@link InformerFactory.forResource}). */
export interface Watch {
  ref: ResourceRef;
  scope?: InformerScope;
}

/** A controller as the manager knows it; see the file comment. */
export interface ControllerDescriptor {
  /** Canonical name: logs (`controller=<name>`) and selection (`descriptorsNamed`). */
  readonly name: string;
  /**
   * The informers it asks the factory for: a list, or `every-resource` (every-resource.ts's set) for
   * the GC, `every-namespaced-resource` (those of them namespaced, and namespaces) for namespace lifecycle.
   * descriptors.test.ts checks it against what the constructor really asks for.
   */
  readonly watches: readonly Watch[] | 'every-resource' | 'every-namespaced-resource';
  /** Concurrent reconciles (a key is never reconciled by two workers at once). */
  readonly workers: number;
  /**
   * Part of the API's own semantics: it finishes deletions a client waits on (a Terminating
   * namespace going, a foreground or orphan delete completing), or makes what admission needs (the
   * `default` ServiceAccount a pod is admitted with). Such controllers also run in a server
   * started with controllers off — which runs no controller manager and so takes no Lease — because
   * tests of single parts delete namespaces and cascade deletes there. With controllers on, every
   * descriptor, these included, runs only in the holder of the controller-manager Lease, as in
   * kube-controller-manager: two servers never collect garbage twice.
   */
  readonly apiSemantics?: boolean;
  /** Builds the controller: asks `ctx.factory` for its informers and registers its handlers. */
  build(ctx: ControllerContext, log: Logger): Controller;
}
