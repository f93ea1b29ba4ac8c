/**
 * One webhook call (k8s.io/apiserver pkg/admission/plugin/webhook/request and generic/webhook.go):
 * the AdmissionReview v1 request built from the admission attributes, POSTed over HTTPS to the
 * webhook's URL or Service — verified against its caBundle, `?timeout=Ns`, bounded by timeoutSeconds —
 * and the response checked as upstream checks it (same uid, admission.k8s.io/v1 AdmissionReview,
 * a JSONPatch only with patchType JSONPatch).
 */
import { randomUUID } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import type { AdmissionRequest } from '../admission.ts';

type Rec = Record<string, any>;

/** Where a Service-backed webhook is reached, and the name its certificate must carry. */
export interface WebhookEndpoint { host: string; port: number; serverName: string }

/** How a Service reference becomes an address (the server resolves it to a ready endpoint). */
export type ServiceResolver = (namespace: string, name: string, port: number) => Promise<WebhookEndpoint>;

/** What the webhook answered (AdmissionResponse v1). */
export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code?: number; message?: string; reason?: string };
  patch?: string;
  patchType?: string;
  warnings?: string[];
}

/** The AdmissionReview v1 request for `req`. */
export function admissionReview(req: AdmissionRequest, uid = randomUUID()): Rec {
  const { group, version, kind, plural } = req.resource;
  const optionsKind = { CREATE: 'CreateOptions', UPDATE: 'UpdateOptions', DELETE: 'DeleteOptions', CONNECT: undefined }[req.operation];
  const objectKind = (req.object ?? req.oldObject)?.kind ?? kind;
  return {
    apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group, version, kind: req.subresource && objectKind !== kind ? objectKind : kind },
      resource: { group, version, resource: plural },
      ...(req.subresource ? { subResource: req.subresource, requestSubResource: req.subresource } : {}),
      requestKind: { group, version, kind: req.subresource && objectKind !== kind ? objectKind : kind },
      requestResource: { group, version, resource: plural },
      name: req.name || undefined,
      namespace: req.namespace || undefined,
      operation: req.operation,
      userInfo: { username: req.user.name, ...(req.user.uid ? { uid: req.user.uid } : {}), groups: req.user.groups, ...(req.user.extra ? { extra: req.user.extra } : {}) },
      object: req.object ?? null,
      oldObject: req.oldObject ?? null,
      dryRun: req.dryRun,
      options: optionsKind ? { apiVersion: 'meta.k8s.io/v1', kind: optionsKind, ...(req.dryRun ? { dryRun: ['All'] } : {}) } : null,
    },
  };
}

/**
 * The URL a webhook is called at: its own, or its Service's `https://<name>.<ns>.svc:<port><path>`
 * — as text, since errors name the port even when it is 443 (as upstream's do; URL drops it).
 */
function webhookUrl(webhook: Rec): string {
  const cc = webhook.clientConfig ?? {};
  if (cc.url) return cc.url;
  const svc = cc.service ?? {};
  return `https://${svc.name}.${svc.namespace}.svc:${svc.port ?? 443}${svc.path ?? '/'}`;
}

/** Where to POST: the URL, or the Service's endpoint with its path. */
export async function webhookTarget(webhook: Rec, resolve: ServiceResolver): Promise<{ url: URL; serverName: string; host: string; port: number }> {
  const url = new URL(webhookUrl(webhook));
  const svc = webhook.clientConfig?.service;
  if (!svc) return { url, serverName: url.hostname, host: url.hostname, port: Number(url.port || 443) };
  const ep = await resolve(svc.namespace, svc.name, svc.port ?? 443);
  return { url, serverName: ep.serverName, host: ep.host, port: ep.port };
}

/** POSTs `review` and returns the checked response; throws with the reason on any failure. */
export async function callWebhook(webhook: Rec, review: Rec, resolve: ServiceResolver): Promise<AdmissionResponse> {
  const timeoutMs = (webhook.timeoutSeconds ?? 10) * 1000;
  const target = await webhookTarget(webhook, resolve).catch((err: Error) => {
    // Said as a failed call to the Service's URL, as upstream says an unresolvable Service.
    throw new Error(`failed to call webhook: Post "${webhookUrl(webhook)}?timeout=${webhook.timeoutSeconds ?? 10}s": ${err.message}`);
  });
  target.url.searchParams.set('timeout', `${webhook.timeoutSeconds ?? 10}s`);
  const ca = webhook.clientConfig?.caBundle ? Buffer.from(webhook.clientConfig.caBundle, 'base64').toString('utf8') : undefined;
  const body = JSON.stringify(review);
  const text = await new Promise<string>((resolve_, reject) => {
    const r = httpsRequest({
      host: target.host, port: target.port, servername: target.serverName, path: target.url.pathname + target.url.search, method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'content-length': Buffer.byteLength(body), host: `${target.url.hostname}:${target.port}` },
      ...(ca ? { ca } : {}), timeout: timeoutMs,
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        // An AdmissionReview answer is small; a webhook that streams without end is cut off.
        if (size > 3 * 1024 * 1024) { res.destroy(new Error('the response is larger than 3 MiB')); return; }
        chunks.push(c);
      });
      res.on('end', () => {
        const t = Buffer.concat(chunks).toString('utf8');
        if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300) reject(new Error(`the server responded with HTTP ${res.statusCode}: ${t.slice(0, 200)}`));
        else resolve_(t);
      });
      res.on('error', reject);
    });
    const deadline = setTimeout(() => r.destroy(new Error(`context deadline exceeded (timeout ${webhook.timeoutSeconds ?? 10}s)`)), timeoutMs);
    r.on('timeout', () => r.destroy(new Error(`context deadline exceeded (timeout ${webhook.timeoutSeconds ?? 10}s)`)));
    r.on('close', () => clearTimeout(deadline));
    r.on('error', reject);
    r.end(body);
  }).catch((err: Error) => { throw new Error(`failed to call webhook: Post "${target.url.href}": ${err.message}`); });
  return checkResponse(text, review.request.uid);
}

/** The response, checked as upstream's VerifyAdmissionResponse checks it. */
export function checkResponse(text: string, uid: string): AdmissionResponse {
  let parsed: Rec;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error('received invalid webhook response: the body is not JSON');
  }
  if (parsed?.apiVersion !== 'admission.k8s.io/v1' || parsed?.kind !== 'AdmissionReview') {
    throw new Error(`received invalid webhook response: expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got ${parsed?.apiVersion}, Kind=${parsed?.kind}`);
  }
  const res = parsed.response as AdmissionResponse | undefined;
  if (!res || typeof res !== 'object') throw new Error('received invalid webhook response: webhook response was absent');
  if (res.uid !== uid) throw new Error(`received invalid webhook response: expected response.uid="${uid}", got "${res.uid}"`);
  if (typeof res.allowed !== 'boolean') throw new Error('received invalid webhook response: response.allowed is not a boolean');
  if (res.patch !== undefined && res.patchType !== 'JSONPatch') throw new Error(`received invalid webhook response: expected patchType "JSONPatch", got "${res.patchType ?? ''}"`);
  if (res.patchType !== undefined && res.patch === undefined) throw new Error('received invalid webhook response: patchType without a patch');
  return res;
}

/** The JSON patch of a mutating webhook's answer (base64 JSON on the wire). */
export function decodePatch(res: AdmissionResponse): unknown {
  try {
    return JSON.parse(Buffer.from(res.patch!, 'base64').toString('utf8'));
  } catch {
    throw new Error('received invalid webhook response: the patch is not base64-encoded JSON');
  }
}
