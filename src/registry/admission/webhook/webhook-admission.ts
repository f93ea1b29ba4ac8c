/**
 * The MutatingAdmissionWebhook and ValidatingAdmissionWebhook plugins (k8s.io/apiserver
 * pkg/admission/plugin/webhook/mutating and validating dispatchers): every write passes the
 * webhooks whose configuration matches it (matching.ts), after Berth's own plugins of the same
 * phase, in the order upstream uses — configurations by name, webhooks in their order.
 *
 *   mutating   one after another; a JSONPatch answer changes the object the next one sees
 *   validating all at once; any refusal refuses the request
 *
 * A refusal is the webhook's Status (400 unless it says otherwise): `admission webhook "NAME"
 * denied the request: MESSAGE`. A webhook that cannot be called, times out or answers badly is
 * skipped under failurePolicy Ignore and refuses the request under Fail (500 `failed calling
 * webhook "NAME": …`), so a broken webhook never writes half an object. The configurations
 * themselves are exempt (otherwise a broken webhook could never be removed), as upstream.
 */
import type { KubeObject } from '../../../apis/object.ts';
import { applyJsonPatch } from '../../../apis/patch/json-patch.ts';
import { ApiError, errors, type ErrorCode } from '../../../errors/index.ts';
import type { Logger } from '../../../util/log.ts';
import type { AdmissionPlugin, AdmissionRequest } from '../admission.ts';
import { namespaceLabelsFor, webhookMatches } from './matching.ts';
import { admissionReview, callWebhook, decodePatch, type AdmissionResponse, type ServiceResolver } from './review.ts';

type Rec = Record<string, any>;

export const ADMISSION_REGISTRATION_GROUP = 'admissionregistration.k8s.io';

/** Where the plugins read the configurations (an informer's cache in the server). */
export interface WebhookConfigurationSource {
  mutating(): KubeObject[];
  validating(): KubeObject[];
}

export interface WebhookAdmissionOptions {
  source: WebhookConfigurationSource;
  resolve: ServiceResolver;
  /** A namespace's labels, or undefined when it does not exist. */
  namespaceLabels(name: string): Promise<Record<string, string> | undefined>;
  log?: Logger;
  /** Calls a webhook (tests give their own); default: HTTPS (review.ts). */
  call?: (webhook: Rec, review: Rec) => Promise<AdmissionResponse>;
}

/** The webhooks of `configs` in upstream's order: configurations by name, then as listed. */
function ordered(configs: KubeObject[]): Rec[] {
  return [...configs]
    .sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : 0))
    .flatMap((c) => (Array.isArray(c.webhooks) ? c.webhooks : []));
}

/** The webhook's refusal as an ApiError: its own code where the catalogue has it, else 400. */
export function deniedError(name: string, status: AdmissionResponse['status']): ApiError {
  const deniedBy = `admission webhook "${name}" denied the request`;
  const message = status?.message ? `${deniedBy}: ${status.message}` : status?.reason ? `${deniedBy}: ${status.reason}` : `${deniedBy} without explanation`;
  const byCode: Record<number, ErrorCode> = { 403: 'BERTH_FORBIDDEN', 404: 'BERTH_NOT_FOUND', 409: 'BERTH_CONFLICT', 422: 'BERTH_INVALID', 429: 'BERTH_TOO_MANY_REQUESTS' };
  return new ApiError(byCode[status?.code ?? 400] ?? 'BERTH_BAD_REQUEST', message);
}

function exempt(req: AdmissionRequest): boolean {
  return req.resource.group === ADMISSION_REGISTRATION_GROUP;
}

/** Replaces the contents of `target` by `next` (the chain holds `target`, so it is changed in place). */
function replaceInPlace(target: KubeObject, next: KubeObject): void {
  for (const k of Object.keys(target)) delete (target as Rec)[k];
  Object.assign(target, next);
}

function dispatcher(opts: WebhookAdmissionOptions) {
  const call = opts.call ?? ((webhook: Rec, review: Rec) => callWebhook(webhook, review, opts.resolve));

  async function matching(req: AdmissionRequest, configs: KubeObject[]): Promise<Rec[]> {
    if (exempt(req) || configs.length === 0) return [];
    const nsLabels = await namespaceLabelsFor(req, opts.namespaceLabels);
    return ordered(configs).filter((w) => webhookMatches(w, req, nsLabels));
  }

  /** Calls one webhook; undefined when it failed and its failurePolicy is Ignore. */
  async function invoke(webhook: Rec, req: AdmissionRequest): Promise<{ res: AdmissionResponse; review: Rec } | undefined> {
    const review = admissionReview(req);
    try {
      const res = await call(webhook, review);
      for (const w of res.warnings ?? []) req.warnings?.push(w);
      return { res, review };
    } catch (err) {
      return failed(webhook, err as Error);
    }
  }

  function failed(webhook: Rec, err: Error): undefined {
    if (webhook.failurePolicy === 'Ignore') {
      opts.log?.warn('admission webhook failed; failurePolicy Ignore lets the request through', { webhook: webhook.name, error: err.message });
      return undefined;
    }
    throw errors.internal(`failed calling webhook "${webhook.name}": ${err.message}`);
  }

  return { matching, invoke, failed };
}

/** MutatingAdmissionWebhook. */
export function mutatingWebhookAdmission(opts: WebhookAdmissionOptions): AdmissionPlugin {
  const d = dispatcher(opts);
  return {
    name: 'MutatingAdmissionWebhook',
    // Synchronous while no configuration can apply (most clusters, most writes): no promise for nothing to call.
    admit(req) {
      const configs = opts.source.mutating();
      if (exempt(req) || configs.length === 0) return;
      return admitWith(req, configs);
    },
  };

  async function admitWith(req: AdmissionRequest, configs: KubeObject[]): Promise<void> {
    for (const webhook of await d.matching(req, configs)) {
      const out = await d.invoke(webhook, req);
      if (!out) continue;
      if (!out.res.allowed) throw deniedError(webhook.name, out.res.status);
      if (out.res.patch === undefined || !req.object) continue;
      let next: KubeObject;
      try {
        next = applyJsonPatch(structuredClone(req.object), decodePatch(out.res)) as KubeObject;
        if (next?.apiVersion !== req.object.apiVersion || next?.kind !== req.object.kind) throw new Error('the patch changes apiVersion or kind');
      } catch (err) {
        d.failed(webhook, new Error(`the JSON patch cannot be applied: ${(err as Error).message}`));
        continue;
      }
      replaceInPlace(req.object, next);
    }
  }
}

/** ValidatingAdmissionWebhook. */
export function validatingWebhookAdmission(opts: WebhookAdmissionOptions): AdmissionPlugin {
  const d = dispatcher(opts);
  return {
    name: 'ValidatingAdmissionWebhook',
    // Synchronous while no configuration can apply (see the mutating plugin).
    validate(req) {
      const configs = opts.source.validating();
      if (exempt(req) || configs.length === 0) return;
      return validateWith(req, configs);
    },
  };

  async function validateWith(req: AdmissionRequest, configs: KubeObject[]): Promise<void> {
    const hooks = await d.matching(req, configs);
    if (!hooks.length) return;
    // Each webhook sees its own copy: a validating webhook must not be able to change the write.
    const results = await Promise.allSettled(hooks.map((w) => d.invoke(w, { ...req, object: req.object && structuredClone(req.object) })));
    for (const [i, r] of results.entries()) {
      if (r.status === 'rejected') throw r.reason;
      if (r.value && !r.value.res.allowed) throw deniedError(hooks[i].name, r.value.res.status);
    }
  }
}
