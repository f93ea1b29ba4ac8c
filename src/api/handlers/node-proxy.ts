/**
 * nodes/NAME/proxy/PATH: the API server forwards the request to the node agent (kube-apiserver's
 * node proxy REST, pkg/registry/core/node/rest/proxy.go) with its kubelet-client certificate, so
 * `/api/v1/nodes/N/proxy/metrics`, `/metrics/cadvisor`, `/stats/summary` and the like reach the
 * agent's endpoints as on Kubernetes. The caller needs `nodes/proxy` (checked by the handler chain);
 * the agent then trusts the API server's certificate.
 */
import { errors } from '../../errors/index.ts';
import { proxyPodStream } from '../proxy/pod-stream-proxy.ts';
import type { HandlerContext } from './context.ts';
import { agentUrlOf } from './pod-streams.ts';

/** The agent path: what follows `/proxy` in the request, with its query. */
export function nodeProxyPath(segments: readonly string[], query: URLSearchParams): string {
  const i = segments.indexOf('proxy', 3);
  const rest = i < 0 ? [] : segments.slice(i + 1);
  const qs = query.toString();
  return `/${rest.map(encodeURIComponent).join('/')}${qs ? `?${qs}` : ''}`;
}

export async function handleNodeProxy(ctx: HandlerContext, segments: readonly string[]): Promise<void> {
  const node = await ctx.store.get(undefined, ctx.info.name!);
  const agentUrl = agentUrlOf(node);
  if (!agentUrl) throw errors.unavailable(`no node agent serves node ${ctx.info.name}`);
  const tls = ctx.agentTls?.();
  proxyPodStream(ctx.req, ctx.res, { agentUrl: tls ? agentUrl.replace(/^http:/, 'https:') : agentUrl, path: nodeProxyPath(segments, ctx.query), tls });
}
