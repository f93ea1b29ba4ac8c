/**
 * End to end: replicated volumes on `berth lab up --nodes 4 --storage` — four real agents, each
 * running its own real glusterd, real FUSE mounts, kubectl over TLS.
 *
 *   a claim of class replicated   Bound to a PV with three bricks on three distinct nodes; the
 *                                 gluster volume exists (replica 3, quorum options) and is started
 *   data follows the pod          a process pod writes and fsyncs 200 files; deleted, a pod pinned
 *                                 on another node reads every one back
 *   two storage nodes             (two unlabelled) a new claim stays Pending with the reason; a
 *                                 third storage node again: it binds
 *   a brick node killed           a pod elsewhere keeps writing (2 of 3); the PV says degraded and
 *                                 VolumeDegraded; restarted: VolumeHealed, its stale brick healed to
 *                                 the others' content
 *   glusterd killed -9            (and its brick) started again by the agent; the brick back online
 *   a torn glusterd store         (a volume's `info` gone, as when glusterd dies mid-import) the agent
 *                                 sets the definition aside, glusterd starts, the pool gives it back
 *   a peer the pool rejects       (a volume definition of the pool's version, other content: "Peer
 *                                 Rejected") its agent resets its store, it rejoins with the volume
 *   a member stuck half-joined    (a peer it holds "Peer is connected and Accepted", its store so) its
 *                                 agent marks the peer in the pool and restarts it: the pool whole
 *   a brick disk full             (a claim whose bricks are 32 MiB filesystems) a pod's write fails
 *                                 with ENOSPC; the PV names the full bricks, VolumeDegraded; space
 *                                 freed: healthy again
 *   a brick node stays down       its replica is rebuilt on the spare node (ReplicaMoved, replace-brick
 *                                 + full heal), the data there; back, the node drops its stale copy
 *   deleting the claim            removes the gluster volume and every brick directory, then the PV
 *   a member that missed a delete (the volume's definition put back in its store, glusterd restarted)
 *                                 gives it back to the pool at its handshake; the agents delete it pool-wide
 *   down                          no glusterd, brick, self-heal daemon or FUSE mount of the lab left
 *
 * Cases by concern: replicated-volumes-data.case.ts (claims, data, disk full, deletion),
 * replicated-volumes-node-loss.case.ts (a brick node killed, one that stays down),
 * replicated-volumes-pool.case.ts (glusterd and the trusted pool); what they share:
 * replicated-volumes.fixture.ts. One lab for all: each case starts from the lab the one before left.
 *
 * Serial (machine lock: bridges, namespaces, cgroups, FUSE); needs root.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startLab } from '../../src/lab/lab.fixture.ts';
import { processesWith } from '../support/gluster-lab.ts';
import { deletionCases, diskFullCase, placementCases } from './replicated-volumes-data.case.ts';
import { REBUILD_DELAY_S, ReplicatedSuite } from './replicated-volumes.fixture.ts';
import { brickNodeKilledCase, staysDownCase } from './replicated-volumes-node-loss.case.ts';
import { poolRepairCases } from './replicated-volumes-pool.case.ts';

describe('replicated volumes on a 4-node lab', { concurrency: false }, () => {
  const c = new ReplicatedSuite();
  const { json, waitFor, gluster } = c;

  before(async () => {
    c.lab = await startLab({ nodes: 4, storage: true, replicaRebuildDelay: REBUILD_DELAY_S });
  });
  after(async () => {
    c.unmountSmall();
    const dir = c.lab?.dataDir;
    await c.lab?.down();
    if (dir) {
      // Nothing of the lab's storage outlives it: no daemon, brick, heal daemon or FUSE client, no mount.
      assert.deepEqual(processesWith(dir), []);
      assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(dir), 'a mount under the lab is left');
    }
  });

  test('every node is a storage node running its own glusterd, in one trusted pool', async () => {
    // Each agent labels its Node once its storage part starts (after the Node is Ready, where lab up returns).
    await waitFor('4 storage nodes', async () => ((await json(['get', 'nodes'])).items as any[]).filter((n) => n.metadata.labels?.['storage.berth.dev/node'] === 'true').length === 4);
    await waitFor('one pool of 4', async () => {
      const out = gluster('node-1', 'pool', 'list');
      return (out.match(/Connected/g) ?? []).length === 4;
    });
    for (const n of c.lab.state().nodes) assert.equal(processesWith(path.join(n.dataDir, 'replicated', 'glusterd', 'glusterd.vol')).length, 1, `${n.name}: one glusterd`);
  });

  // In this order: each case leaves the lab whole for the next; the later ones use the claim the first binds.
  placementCases(c);
  brickNodeKilledCase(c);
  poolRepairCases(c);
  diskFullCase(c);
  staysDownCase(c);
  deletionCases(c);
});
