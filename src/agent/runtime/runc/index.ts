/** The `runc` runtime driver (OCI containers from images) and its entry in the driver catalog. */
import { join } from 'node:path';
import type { RuntimeRegistration } from '../drivers.ts';
import { RuncDriver } from './runc-driver.ts';

export { RuncDriver, type RuncDriverOptions, type RuncImageSource } from './runc-driver.ts';
export { buildOciSpec, cgroupsPathOf, effectiveCapabilities, INIT_PATH, type OciSpec, type OciSpecOptions } from './oci-spec.ts';
export { allCgroupRoots, removeEmptyCgroupPath } from './runc-cgroups.ts';

/** Optional: a host without runc (or tini-static) runs process pods only. */
export const runcRuntime: RuntimeRegistration = {
  handler: 'runc',
  optional: true,
  binaryFlag: 'runc',
  // Containers (= OCI bundles) in <stateDir>/containers, runc's own --root beside them (runc-root).
  create: (ctx) => new RuncDriver({ stateDir: join(ctx.stateDir, 'containers'), runcPath: ctx.settings.binary, images: ctx.images }),
};
