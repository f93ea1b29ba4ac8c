/**
 * What the replicated-volume provisioner needs from a storage engine (the role a CSI driver's
 * controller service plays for external-provisioner, cut to Berth's one-process control plane): how
 * many replicas a volume has, where a replica lives on a node, and what the PV tells the nodes that
 * mount it. The engine's own work (create, start, heal, delete) runs on the storage nodes' agents,
 * driven by the PV (apis/volumes/replicated-volume.ts); GlusterFS is the one engine today.
 */
import type { KubeObject } from '../../apis/object.ts';
import type { Brick } from '../../apis/volumes/replicated-volume.ts';

export interface VolumeEngine {
  /** For messages: `glusterfs`. */
  readonly name: string;
  /** Replicas of every volume, on that many distinct nodes. */
  readonly replicas: number;
  /** The volume's replica on `node`, or why the node cannot hold one. */
  brickFor(node: KubeObject, volumeName: string): Brick | Error;
  /** The PV's csi.volumeAttributes: what a mounting node needs besides the bricks. */
  volumeAttributes(bricks: Brick[]): Record<string, string>;
}
