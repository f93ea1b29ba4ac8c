/**
 * The node's container runtimes as the pod workers see them: the drivers built from the catalog
 * (drivers.ts), the driver a container runs on — its runtime annotation, else its pod's RuntimeClass
 * handler (the kubelet's runtimeclass manager resolves the same way), else the node's default class's
 * when one is set, else its image's (apis/runtime-annotation.ts: `host` → process, others → runc) —
 * and a pod's runtime clean-up once its containers are gone.
 */
import { join } from 'node:path';
import type { KubeObject } from '../../apis/object.ts';
import { containerNamed, handlerForImage, runtimeOverride } from '../../apis/runtime-annotation.ts';
import { R, type Client } from '../../client/client.ts';
import type { Logger } from '../../util/log.ts';
import { hostCgroupLayout, removeCgroupTree, type CgroupLayout } from './cgroups/index.ts';
import type { RuntimeDriver } from './driver.ts';
import { RUNTIMES, type DriverContext, type DriverSettings, type RuntimeRegistration } from './drivers.ts';

export interface NodeRuntimeOptions {
  /** The agent's data dir: each driver keeps its state in `runtime/<handler>` below it. */
  dataDir: string;
  images: DriverContext['images'];
  /** RuntimeClass lookups (handler of a class). */
  client: Pick<Client, 'get'>;
  nodeName: string;
  /** The RuntimeClass of pods that name none; unset: each container's image decides. */
  defaultRuntimeClass?: string;
  /** Per handler: its settings, or false to run this node without it. */
  settings?: Record<string, DriverSettings | false | undefined>;
  log: Logger;
  /** The catalog (tests give their own). */
  registry?: readonly RuntimeRegistration[];
  /** Where pod cgroups are (default: the machine's). */
  cgroupLayout?: CgroupLayout;
}

export class NodeRuntime {
  /** The drivers this node runs, by handler. */
  readonly drivers = new Map<string, RuntimeDriver>();
  private readonly handlerOfClass = new Map<string, string>();

  /** Builds every driver of the catalog not turned off; throws when a required one cannot be built. */
  constructor(private readonly opts: NodeRuntimeOptions) {
    for (const reg of opts.registry ?? RUNTIMES) {
      const settings = opts.settings?.[reg.handler];
      if (settings === false) continue;
      try {
        this.drivers.set(reg.handler, reg.create({ stateDir: join(opts.dataDir, 'runtime', reg.handler), images: opts.images, settings: settings ?? {}, log: opts.log }));
      } catch (err) {
        if (!reg.optional) throw err;
        opts.log.warn(`the ${reg.handler} runtime is not available on this node; pods that need it fail with CreateContainerError`, { error: (err as Error).message });
      }
    }
  }

  /** The driver for one container of `pod` (see the file comment); throws when this node does not run it. */
  async pick(pod: KubeObject, containerName: string): Promise<RuntimeDriver> {
    const handler = runtimeOverride(pod.metadata.annotations, containerName) ?? await this.classHandler(pod, containerName);
    const d = this.drivers.get(handler);
    if (!d) throw new Error(`runtime handler "${handler}" is not available on node ${this.opts.nodeName} (available: ${[...this.drivers.keys()].join(', ')})`);
    return d;
  }

  private async classHandler(pod: KubeObject, containerName: string): Promise<string> {
    const className = (pod.spec?.runtimeClassName as string | undefined) || this.opts.defaultRuntimeClass;
    if (className) return this.handlerOf(className);
    return handlerForImage(containerNamed(pod.spec as Record<string, unknown> | undefined, containerName)?.image);
  }

  /** A RuntimeClass's handler, read once per class (a class's handler cannot change). */
  private async handlerOf(className: string): Promise<string> {
    let handler = this.handlerOfClass.get(className);
    if (handler === undefined) {
      handler = (await this.opts.client.get(R.runtimeclasses, undefined, className)).handler as string;
      this.handlerOfClass.set(className, handler);
    }
    return handler;
  }

  /**
   * After a pod's containers are destroyed: its parent cgroup (where every driver put the pod's
   * containers), then what each driver keeps per pod. Every step runs; the errors are thrown together.
   */
  async cleanupPod(cgroupParent: string): Promise<void> {
    const errors: string[] = [];
    await removeCgroupTree(this.opts.cgroupLayout ?? hostCgroupLayout(), cgroupParent).catch((err: Error) => errors.push(err.message));
    for (const d of this.drivers.values()) await d.cleanupPod?.(cgroupParent).catch((err: Error) => errors.push(`${d.name}: ${err.message}`));
    if (errors.length) throw new Error(errors.join('; '));
  }
}
