/**
 * The PV controller's view of PVs and PVCs: the informer's cache overlaid with the objects the
 * controller itself just wrote (pv_controller_base.go's storeVolumeUpdate/storeClaimUpdate). Binding
 * writes four objects in a row (PV spec, PV status, PVC spec, PVC status); without the overlay the
 * next sync would see the informer's older copies and try to bind them again, only to get conflicts.
 */
import type { KubeObject } from '../../apis/object.ts';
import type { ObjectKey } from '../../client/controller-types.ts';
import type { SharedInformer } from '../../client/informer.ts';

const rv = (o: KubeObject | undefined) => Number(o?.metadata.resourceVersion ?? 0);

export class LatestCache {
  private readonly written = new Map<ObjectKey, KubeObject>();

  constructor(private readonly informer: SharedInformer) {}

  /** The newer of the informer's copy and our last write (never a copy the informer saw deleted). */
  get(key: ObjectKey): KubeObject | undefined {
    const cached = this.informer.get(key);
    const mine = this.written.get(key);
    if (!cached || !mine) {
      if (!cached) this.written.delete(key);
      return cached;
    }
    if (cached.metadata.uid !== mine.metadata.uid || rv(cached) >= rv(mine)) {
      this.written.delete(key);
      return cached;
    }
    return mine;
  }

  /** Every object, newest copies. */
  list(): KubeObject[] {
    return this.informer.list().map((o) => this.get(keyOf(o)) ?? o);
  }

  /** Records what a write returned. */
  remember(obj: KubeObject): KubeObject {
    this.written.set(keyOf(obj), obj);
    return obj;
  }

  forget(key: ObjectKey): void {
    this.written.delete(key);
  }
}

function keyOf(o: KubeObject): ObjectKey {
  return o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name!;
}
