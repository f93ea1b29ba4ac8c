/**
 * Shares informers between controllers, as client-go's SharedInformerFactory: one informer per
 * resource (+ namespace, label and field selector), started together, stopped together. An informer
 * asked for after `start()` starts at once.
 */
import type { Logger } from '../util/log.ts';
import type { Client, ResourceRef } from './client.ts';
import { SharedInformer, type Transform } from './informer.ts';

/** What narrows a shared informer; each distinct combination gets its own informer. */
export interface InformerScope {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

/** One shared informer per resource and scope over a Client. */
export class InformerFactory {
  private readonly informers = new Map<string, SharedInformer>();
  private started = false;

  constructor(readonly client: Client, private readonly opts: {
    log?: Logger;
    resyncMs?: number;
    /** The transform of a resource's informers (client-go's factory WithTransform, per resource here); none: the managedFields trim. */
    transform?: (ref: ResourceRef) => Transform | undefined;
  } = {}) {}

  /** The shared informer for `ref` (created on first use). */
  forResource(ref: ResourceRef, scope: InformerScope = {}): SharedInformer {
    const id = [ref.group, ref.version, ref.resource, scope.namespace ?? '', scope.labelSelector ?? '', scope.fieldSelector ?? ''].join('|');
    let inf = this.informers.get(id);
    if (!inf) {
      inf = new SharedInformer(this.client, ref, { ...scope, log: this.opts.log, resyncMs: this.opts.resyncMs, transform: this.opts.transform?.(ref) });
      this.informers.set(id, inf);
      if (this.started) inf.start();
    }
    return inf;
  }

  /** Starts every informer made so far; later ones start as they are made. */
  start(): void {
    this.started = true;
    for (const inf of this.informers.values()) inf.start();
  }

  /** Resolves when every informer made so far has listed once. */
  async waitForSync(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.synced()));
  }

  stop(): void {
    for (const inf of this.informers.values()) inf.stop();
  }
}
