/** Berth's own version, reported in /version as build metadata of the Kubernetes API level. */
export const BERTH_VERSION = '0.1.0';
