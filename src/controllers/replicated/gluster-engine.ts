/**
 * GlusterFS as the replicated-volume engine (what heketi did for Kubernetes' in-tree glusterfs
 * plugin: a replica-3 volume per claim on three nodes of the trusted pool): a brick is
 * `<node's brick dir>/<volume>/brick` on the node's InternalIP, where the node's agent runs glusterd
 * (agent/storage/). A brick one level below the volume's own directory, so a brick whose directory
 * vanished (a lost disk) is not silently recreated empty by glusterd on the mount point.
 */
import { isAbsolute, posix } from 'node:path';
import type { KubeObject } from '../../apis/object.ts';
import { ANN_BRICK_DIR, type Brick } from '../../apis/volumes/replicated-volume.ts';
import type { VolumeEngine } from './volume-engine.ts';

/** The node's InternalIP (the address its glusterd binds), if it reports one. */
export function internalIP(node: KubeObject): string | undefined {
  return (node.status?.addresses ?? []).find((a: { type?: string }) => a.type === 'InternalIP')?.address;
}

export const glusterEngine: VolumeEngine = {
  name: 'glusterfs',
  replicas: 3,
  brickFor(node, volumeName) {
    const dir = node.metadata.annotations?.[ANN_BRICK_DIR];
    if (!dir || !isAbsolute(dir)) return new Error(`node "${node.metadata.name}" announces no brick directory (${ANN_BRICK_DIR}): is its agent running with --storage?`);
    const address = internalIP(node);
    if (!address) return new Error(`node "${node.metadata.name}" reports no InternalIP`);
    return { node: node.metadata.name!, address, path: posix.join(posix.normalize(dir), volumeName, 'brick') };
  },
  volumeAttributes(bricks) {
    return { engine: 'glusterfs', servers: bricks.map((b) => b.address).join(',') };
  },
};
