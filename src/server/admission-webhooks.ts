/**
 * The admission webhooks of one API server (kube-apiserver's MutatingAdmissionWebhook and
 * ValidatingAdmissionWebhook with their configuration informers and service resolver): the
 * configurations come from a shared informer (a write made right after a configuration changes may
 * not see it yet, as upstream), and a webhook's Service is reached at one of its ready endpoints —
 * upstream's `--enable-aggregator-routing` choice, since a server need not run the service proxy —
 * while its certificate is checked for `<service>.<namespace>.svc`.
 */
import type { InformerFactory } from '../client/informer-factory.ts';
import type { ResourceRef } from '../client/client.ts';
import { orUndefined } from '../errors/not-found.ts';
import type { AdmissionPlugin } from '../registry/admission/admission.ts';
import type { ServiceResolver } from '../registry/admission/webhook/review.ts';
import { ADMISSION_REGISTRATION_GROUP, mutatingWebhookAdmission, validatingWebhookAdmission } from '../registry/admission/webhook/webhook-admission.ts';
import type { Registry } from '../registry/registry.ts';
import type { Logger } from '../util/log.ts';

const MUTATING: ResourceRef = { group: ADMISSION_REGISTRATION_GROUP, version: 'v1', resource: 'mutatingwebhookconfigurations' };
const VALIDATING: ResourceRef = { group: ADMISSION_REGISTRATION_GROUP, version: 'v1', resource: 'validatingwebhookconfigurations' };

/** A Service port → one ready endpoint of it, from the Service and its EndpointSlices in the store. */
export function endpointResolver(registry: Registry): ServiceResolver {
  return async (namespace, name, port) => {
    const svc = await orUndefined(registry.store('', 'services')!.get(namespace, name));
    if (!svc) throw new Error(`service "${namespace}/${name}" not found`);
    const svcPort = (svc.spec?.ports ?? []).find((p: any) => p.port === port);
    if (!svcPort) throw new Error(`service "${namespace}/${name}" has no port ${port}`);
    const slices = (await registry.store('discovery.k8s.io', 'endpointslices')!.list(namespace)).items
      .filter((s) => s.metadata.labels?.['kubernetes.io/service-name'] === name);
    for (const slice of slices) {
      const p = (slice.ports ?? []).find((sp: any) => (sp.name ?? '') === (svcPort.name ?? ''));
      const ready = (slice.endpoints ?? []).find((e: any) => e.conditions?.ready !== false && e.addresses?.length);
      if (p?.port && ready) return { host: ready.addresses[0], port: p.port, serverName: `${name}.${namespace}.svc` };
    }
    throw new Error(`no endpoints available for service "${namespace}/${name}"`);
  };
}

/** The two plugins, reading configurations from `informers` (started with the others). */
export function admissionWebhooks(registry: Registry, informers: InformerFactory, log: Logger): AdmissionPlugin[] {
  const mutating = informers.forResource(MUTATING);
  const validating = informers.forResource(VALIDATING);
  const opts = {
    source: { mutating: () => mutating.list(), validating: () => validating.list() },
    resolve: endpointResolver(registry),
    namespaceLabels: async (ns: string) => (await orUndefined(registry.store('', 'namespaces')!.get(undefined, ns)))?.metadata.labels,
    log,
  };
  return [mutatingWebhookAdmission(opts), validatingWebhookAdmission(opts)];
}
