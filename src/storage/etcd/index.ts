/** The etcd backend's entry point. */
export { openEtcdBackend, type EtcdBackendOptions } from './etcd-backend.ts';
