/** The `runc` runtime driver (OCI containers from images) and the image-config helpers the pod worker uses. */
export { RuncDriver, type RuncDriverOptions, type RuncImageSource } from './runc-driver.ts';
export { mergeImageEnv, parseImageUser, readImageFile, resolveArgv, resolveImageUser, resolveWorkingDir } from './image-config.ts';
export { buildOciSpec, cgroupsPathOf, effectiveCapabilities, INIT_PATH, type OciSpec, type OciSpecOptions } from './oci-spec.ts';
export { allCgroupRoots, removeEmptyCgroupPath } from './runc-cgroups.ts';
