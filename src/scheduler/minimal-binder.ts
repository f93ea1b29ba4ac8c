/**
 * A stand-in scheduler for the single-node `berth up`: every pending pod for `default-scheduler`
 * without a node is bound to the one node through pods/binding, as a real scheduler would do.
 * The scheduler issue replaces it with the filter/score pipeline; nothing else depends on it.
 */
import type { Client, ClientWatch } from '../client/client.ts';
import { R } from '../client/client.ts';
import { isConflict, isNotFound } from '../client/errors.ts';
import type { KubeObject } from '../apis/object.ts';
import type { Logger } from '../util/log.ts';

export interface Binder { stop(): void }

export async function startMinimalBinder(client: Client, nodeName: () => string | undefined, log: Logger): Promise<Binder> {
  const pending = new Map<string, KubeObject>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  async function bind(pod: KubeObject): Promise<void> {
    const node = nodeName();
    if (!node) return;
    const { namespace, name, uid } = pod.metadata;
    try {
      await client.create(R.pods, namespace, {
        apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace, uid },
        target: { apiVersion: 'v1', kind: 'Node', name: node },
      }, 'binding');
      pending.delete(uid!);
      await client.create(R.events, namespace, {
        apiVersion: 'v1', kind: 'Event',
        metadata: { name: `${name}.${Date.now().toString(16)}`, namespace },
        involvedObject: { apiVersion: 'v1', kind: 'Pod', name, namespace, uid, resourceVersion: pod.metadata.resourceVersion },
        reason: 'Scheduled', message: `Successfully assigned ${namespace}/${name} to ${node}`, type: 'Normal',
        source: { component: 'default-scheduler' }, reportingComponent: 'default-scheduler', reportingInstance: 'berth',
        firstTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), lastTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), count: 1,
      }).catch((err) => log.debug('Scheduled event not written', { error: String(err) }));
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) { pending.delete(uid!); return; }
      log.warn('bind failed; will retry', { pod: `${namespace}/${name}`, error: (err as Error).message });
      timer ??= setTimeout(() => { timer = undefined; void retry(); }, 1000);
    }
  }

  async function retry(): Promise<void> {
    for (const pod of [...pending.values()]) if (!stopped) await bind(pod);
  }

  const watch: ClientWatch = await client.watch(R.pods, undefined, { fieldSelector: 'spec.nodeName=' }, (ev) => {
    const pod = ev.object;
    if (ev.type === 'DELETED') { pending.delete(pod.metadata.uid!); return; }
    if (ev.type !== 'ADDED' && ev.type !== 'MODIFIED') return;
    if (pod.spec?.nodeName || pod.metadata.deletionTimestamp) return;
    if ((pod.spec?.schedulerName ?? 'default-scheduler') !== 'default-scheduler') return;
    if (pod.spec?.schedulingGates?.length) return;
    pending.set(pod.metadata.uid!, pod);
    void bind(pod);
  });
  return { stop() { stopped = true; if (timer) clearTimeout(timer); watch.close(); } };
}
