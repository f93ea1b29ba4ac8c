/**
 * Removing the `kubernetes` finalizer from a namespace's spec.finalizers — what PUT
 * namespaces/NAME/finalize does (Kubernetes' namespace deleter calls Finalize). The Client has no
 * `finalize` subresource yet, so this goes to the registry in-process, as the API handler does; the
 * rest of the namespace controller goes through the Client.
 */
import type { Registry } from '../../registry/registry.ts';

/** The finalizer that holds a Terminating namespace until the namespace controller has emptied it. */
export const NAMESPACE_FINALIZER = 'kubernetes';

/** Removes {@link NAMESPACE_FINALIZER} from the namespace `name`; a namespace already gone is fine. */
export type FinalizeNamespace = (name: string) => Promise<void>;

/** {@link FinalizeNamespace} on a registry in the same process. */
export function finalizeThroughRegistry(registry: Registry): FinalizeNamespace {
  const namespaces = registry.store('', 'namespaces')!;
  return async (name) => {
    try {
      await namespaces.guaranteedUpdate(undefined, name, (cur) => {
        const fins = (cur.spec?.finalizers ?? []).filter((f: string) => f !== NAMESPACE_FINALIZER);
        cur.spec = { ...(cur.spec ?? {}), finalizers: fins };
        if (!fins.length) delete cur.spec.finalizers;
        return cur;
      }, { subresource: 'raw' });
    } catch (err) {
      if ((err as { reason?: string }).reason !== 'NotFound') throw err;
    }
  };
}
