/**
 * pods/log, pods/exec, pods/attach and pods/portforward: the API server finds the node agent that
 * runs the pod and proxies the request (plain HTTP for logs, the websocket — or for portforward
 * also SPDY/3.1 — upgrade for the others).
 *
 *   kubectl ─▶ API server (checks, default container) ─proxy─▶ agent-server on the pod's node
 */
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import type { KubeObject } from '../../apis/object.ts';
import { errors } from '../../errors/index.ts';
import type { Registry } from '../../registry/registry.ts';
import { agentPathFor, proxyPodStream, type AgentTls } from '../proxy/pod-stream-proxy.ts';
import type { ApiRequest } from '../handler-chain.ts';
import type { HandlerContext } from './context.ts';
import { AGENT_URL_ANNOTATION } from '../../apis/well-known.ts';

/** Node annotation where an agent publishes the URL of its stream server. */
export const STREAM_SUBRESOURCES = new Set(['log', 'exec', 'attach', 'portforward']);

export interface StreamTarget {
  agentUrl: string;
  path: string;
  tls?: AgentTls;
}

function defaultContainer(pod: KubeObject): string {
  return pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'] ?? pod.spec?.containers?.[0]?.name ?? '';
}

/** Checks the pod and the request as Kubernetes does, and finds the agent (dialled with `tls`). */
export async function resolveStreamTarget(registry: Registry, namespace: string, name: string, sub: string, query: URLSearchParams, tls?: AgentTls): Promise<StreamTarget> {
  const pod = await registry.store('', 'pods')!.get(namespace, name);
  const container = query.get('container');
  const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? []), ...(pod.spec?.ephemeralContainers ?? [])];
  if (container && !all.some((c: { name: string }) => c.name === container)) {
    throw errors.badRequest(`container ${container} is not valid for pod ${name}`);
  }
  const phase = pod.status?.phase;
  if ((sub === 'exec' || sub === 'attach') && (phase === 'Succeeded' || phase === 'Failed')) {
    throw errors.badRequest(`cannot ${sub} into a container in a completed pod; current phase is ${phase}`);
  }
  if (sub === 'portforward' && phase !== 'Running') {
    throw errors.badRequest(`unable to forward port because pod is not running. Current status=${phase}`);
  }
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) throw errors.badRequest(`pod ${name} does not have a host assigned`);
  const node = await registry.store('', 'nodes')!.get(undefined, nodeName).catch(() => undefined);
  const agentUrl = node && agentUrlOf(node);
  if (!agentUrl) throw errors.unavailable(`no node agent serves node ${nodeName} (pod ${namespace}/${name})`);
  // With TLS configured every agent is dialled over TLS, whatever scheme its Node names: a node cannot
  // have the API server talk to it in the clear.
  const url = tls ? agentUrl.replace(/^http:/, 'https:') : agentUrl;
  return { agentUrl: url, path: agentPathFor(sub as never, namespace, name, query, defaultContainer(pod)), tls };
}

/**
 * Where a node's agent listens: its annotation, else InternalIP + kubelet port. Validation keeps
 * both usable; a value that still is not (stored before that check) counts as no agent.
 */
export function agentUrlOf(node: KubeObject): string | undefined {
  const annotated = node.metadata.annotations?.[AGENT_URL_ANNOTATION];
  if (annotated) return URL.canParse(annotated) ? annotated : undefined;
  const addr = node.status?.addresses?.find((a: { type: string }) => a?.type === 'InternalIP')?.address;
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  const family = typeof addr === 'string' ? isIP(addr) : 0;
  if (!family || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  // Agents serve TLS only, as the kubelet's port 10250.
  return `https://${family === 6 ? `[${addr}]` : addr}:${port}`;
}

/** GET pods/NAME/log (plain HTTP); exec/attach/portforward need an upgrade. */
export async function handlePodStream(ctx: HandlerContext): Promise<void> {
  const sub = ctx.info.subresource!;
  if (sub !== 'log') throw errors.badRequest('Upgrade request required');
  if (ctx.req.method !== 'GET') throw errors.methodNotAllowed(`${ctx.req.method} is not supported on pods/log`);
  const target = await resolveStreamTarget(ctx.registry, ctx.info.namespace!, ctx.info.name!, sub, ctx.query, ctx.agentTls?.());
  proxyPodStream(ctx.req, ctx.res, target);
}

/** An Upgrade request, after the handler chain's filters: only pods/exec|attach|portforward upgrade. */
export async function handleUpgrade(registry: Registry, r: ApiRequest, socket: Duplex, head: Buffer, agentTls?: () => AgentTls): Promise<void> {
  const info = r.info;
  if (!info || info.group !== '' || info.resource !== 'pods' || !info.name || !info.namespace || !info.subresource || !STREAM_SUBRESOURCES.has(info.subresource) || info.subresource === 'log') {
    throw errors.badRequest(`upgrade is not supported on ${r.target.path}`);
  }
  const target = await resolveStreamTarget(registry, info.namespace, info.name, info.subresource, r.target.query, agentTls?.());
  proxyPodStream(r.req, socket, head, target);
}
