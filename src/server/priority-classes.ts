/**
 * The API server's part in pod priority: the built-in PriorityClasses system-cluster-critical and
 * system-node-critical, created at every start when missing (kube-apiserver's
 * scheduling/bootstrap-system-priority-classes post-start hook), and the Priority admission plugin
 * fed from a PriorityClass informer (its cache; the store answers a miss).
 */
import type { KubeObject } from '../apis/object.ts';
import type { InformerFactory } from '../client/informer-factory.ts';
import { ApiError } from '../errors/index.ts';
import type { AdmissionPlugin } from '../registry/admission/admission.ts';
import { priorityAdmission } from '../registry/admission/priority.ts';
import { SYSTEM_PRIORITY_CLASSES, systemPriorityClassObject } from '../registry/kinds/priority-class.ts';
import type { Registry } from '../registry/registry.ts';
import type { Logger } from '../util/log.ts';

const PRIORITY_CLASSES = { group: 'scheduling.k8s.io', version: 'v1', resource: 'priorityclasses' };

/** Creates the built-in classes that do not exist; one that exists is left as it is (its value cannot change). */
export async function ensureSystemPriorityClasses(registry: Registry, log: Logger): Promise<string[]> {
  const store = registry.store(PRIORITY_CLASSES.group, PRIORITY_CLASSES.resource)!;
  const created: string[] = [];
  for (const { name } of SYSTEM_PRIORITY_CLASSES) {
    try {
      await store.create(undefined, systemPriorityClassObject(name));
      created.push(name);
    } catch (err) {
      if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) throw err;
    }
  }
  if (created.length) log.info('created system priority classes', { classes: created });
  return created;
}

/** The Priority admission plugin on the server's shared informers (started with them). */
export function priorityClassAdmission(registry: Registry, informers: InformerFactory): AdmissionPlugin {
  const informer = informers.forResource(PRIORITY_CLASSES);
  let synced = false;
  void informer.synced().then(() => { synced = true; });
  return priorityAdmission({
    registry,
    cache: {
      get: (name: string): KubeObject | undefined => informer.get(name),
      list: () => (synced ? informer.list() : undefined),
    },
  });
}
