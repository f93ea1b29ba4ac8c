/**
 * The RuntimeClasses a Berth node offers: `process` (host commands) and `runc` (OCI containers), each
 * with handler = its name. Created if missing; existing ones are left as they are.
 */
import { R, type Client } from '../../client/client.ts';
import { isAlreadyExists } from '../../client/errors.ts';

/** The runtime handlers every Berth node agent serves. */
export const DEFAULT_RUNTIME_CLASSES = ['process', 'runc'];

/** Creates node.k8s.io/v1 RuntimeClass objects for `names` that do not exist yet. */
export async function ensureRuntimeClasses(client: Client, names: string[] = DEFAULT_RUNTIME_CLASSES): Promise<void> {
  for (const name of names) {
    try {
      await client.create(R.runtimeclasses, undefined, { apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name }, handler: name });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
}
