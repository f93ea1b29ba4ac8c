/**
 * The RuntimeClasses a Berth node offers: one per driver in the runtime catalog
 * (../runtime/drivers.ts), each with handler = its name. Created if missing; existing ones are left
 * as they are.
 */
import { R, type Client } from '../../client/client.ts';
import { isAlreadyExists, isNotFound } from '../../client/errors.ts';
import { runtimeHandlers } from '../runtime/drivers.ts';

/** Creates node.k8s.io/v1 RuntimeClass objects for `names` (default: every handler of the catalog) that do not exist yet. */
export async function ensureRuntimeClasses(client: Client, names: string[] = runtimeHandlers()): Promise<void> {
  for (const name of names) {
    // Read first: a node's credential may read RuntimeClasses but not create them (the server does).
    try {
      await client.get(R.runtimeclasses, undefined, name);
      continue;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    try {
      await client.create(R.runtimeclasses, undefined, { apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name }, handler: name });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
}
