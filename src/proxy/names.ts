/**
 * Names of the per-service objects in the table. Like kube-proxy's: a short hash of the full key
 * first (unique even when the readable part is cut to nftables' length limit), then the readable
 * key, so `nft list table` can be read. Identifier characters: letters, digits, `/ - _ .`.
 */
import { createHash } from 'node:crypto';
import type { EndpointModel, ServicePortModel } from './model.ts';
import { servicePortKey } from './model.ts';

/** Below the kernel's 256-byte limit for chain and set names, with room to spare. */
const MAX_NAME = 200;

function hash(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 12).toUpperCase();
}

function named(prefix: string, key: string): string {
  // Port names and object names are DNS labels; anything else is replaced to keep nft's lexer happy.
  const readable = key.replace(/[^a-zA-Z0-9/_.-]/g, '_');
  return `${prefix}-${hash(key)}-${readable}`.slice(0, MAX_NAME);
}

/** Load-balances over every usable endpoint (traffic policy Cluster). */
export function serviceChain(sp: ServicePortModel): string {
  return named('service', servicePortKey(sp));
}

/** Load-balances over this node's endpoints (traffic policy Local). */
export function localChain(sp: ServicePortModel): string {
  return named('local', servicePortKey(sp));
}

/** Entry for node-port traffic: masquerade decisions, then a balancing chain. */
export function externalChain(sp: ServicePortModel): string {
  return named('external', servicePortKey(sp));
}

/** DNATs to one endpoint. */
export function endpointChain(sp: ServicePortModel, ep: EndpointModel): string {
  return named('endpoint', `${servicePortKey(sp)}__${ep.ip}/${ep.port}`);
}

/**
 * Client addresses recently sent to one endpoint (ClientIP affinity). The timeout is part of the
 * name: a set's timeout cannot be changed in place, so a new timeout makes a new set.
 */
export function affinitySet(sp: ServicePortModel, ep: EndpointModel, timeoutSeconds: number): string {
  return `affinity-${hash(`${servicePortKey(sp)}__${ep.ip}/${ep.port}__${timeoutSeconds}`)}`;
}
