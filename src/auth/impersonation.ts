/**
 * Impersonation, as kube-apiserver's WithImpersonation filter: `Impersonate-User` (a ServiceAccount
 * when it reads `system:serviceaccount:<ns>:<name>`), `Impersonate-Group` (repeatable),
 * `Impersonate-Uid` and `Impersonate-Extra-<key>` make the request act as that user, once the
 * requester is allowed the `impersonate` verb on each (users, groups, serviceaccounts in the core
 * group; uids and userextras/<key> in authentication.k8s.io). `kubectl --as/--as-group` send them.
 * Runs after authentication and before authorization.
 *
 *   authenticated user ─▶ impersonation headers? ─no─▶ the same user
 *                                  └─yes─▶ impersonate allowed on each? ─no─▶ 403
 *                                                   └─yes─▶ the impersonated user (+ system:authenticated)
 */
import type { IncomingMessage } from 'node:http';
import { errors } from '../errors/index.ts';
import type { Attributes, Authorizer, UserInfo } from './attributes.ts';
import { forbidden } from './forbidden.ts';

const USER = 'impersonate-user';
const GROUP = 'impersonate-group';
const UID = 'impersonate-uid';
const EXTRA = 'impersonate-extra-';
const SA_PREFIX = 'system:serviceaccount:';
const AUTHN_GROUP = 'authentication.k8s.io';

interface Request {
  resource: 'users' | 'groups' | 'serviceaccounts' | 'userextras' | 'uids';
  group: string;
  namespace?: string;
  name: string;
  /** The extra key, for userextras. */
  subresource?: string;
}

/** `system:serviceaccount:<ns>:<name>` split, or undefined (serviceaccount.SplitUsername). */
function splitServiceAccount(user: string): { namespace: string; name: string } | undefined {
  if (!user.startsWith(SA_PREFIX)) return undefined;
  const parts = user.slice(SA_PREFIX.length).split(':');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return undefined;
  return { namespace: parts[0], name: parts[1] };
}

/** Header names carry extra keys percent-encoded (unescapeExtraKey); a bad escape keeps the raw key. */
function unescapeExtraKey(key: string): string {
  try { return decodeURIComponent(key); } catch { return key; }
}

/** Does the request ask to impersonate anyone? */
export function wantsImpersonation(req: IncomingMessage): boolean {
  return Object.keys(req.headers).some((h) => h === USER || h === GROUP || h === UID || h.startsWith(EXTRA));
}

/**
 * The user the request acts as: `user` itself without impersonation headers, else the impersonated
 * user once `authorizer` allowed `user` to impersonate each part of it. A 403 as kube-apiserver
 * words it when not; a 400 for groups, extras or a uid without a user.
 */
export async function impersonate(req: IncomingMessage, user: UserInfo, authorizer: Authorizer): Promise<UserInfo> {
  if (!wantsImpersonation(req)) return user;
  const headers = req.headersDistinct;
  const requests: Request[] = [];
  const requestedUser = headers[USER]?.[0] ?? '';
  const sa = splitServiceAccount(requestedUser);
  if (requestedUser) requests.push(sa ? { resource: 'serviceaccounts', group: '', namespace: sa.namespace, name: sa.name } : { resource: 'users', group: '', name: requestedUser });
  const groupsAsked = headers[GROUP] ?? [];
  for (const g of groupsAsked) requests.push({ resource: 'groups', group: '', name: g });
  const extra: Record<string, string[]> = {};
  for (const [h, values] of Object.entries(headers)) {
    if (!h.startsWith(EXTRA) || !values) continue;
    const key = unescapeExtraKey(h.slice(EXTRA.length));
    for (const v of values) {
      requests.push({ resource: 'userextras', group: AUTHN_GROUP, name: v, subresource: key });
      (extra[key] ??= []).push(v);
    }
  }
  const uid = headers[UID]?.[0] ?? '';
  if (uid) requests.push({ resource: 'uids', group: AUTHN_GROUP, name: uid });
  if (!requestedUser) throw errors.badRequest(`requested impersonation of ${requests.map((r) => r.resource).join(', ')} without impersonating a user`);

  for (const r of requests) {
    const a: Attributes = {
      user, verb: 'impersonate', isResourceRequest: true, path: '', apiGroup: r.group, apiVersion: 'v1',
      resource: r.resource, subresource: r.subresource ?? '', namespace: r.namespace ?? '', name: r.name,
    };
    if (await authorizer.authorize(a) !== 'allow') throw forbidden(a);
  }

  // Groups asked for are the whole truth; a ServiceAccount without them gets its fixed groups.
  const groups = groupsAsked.length ? [...groupsAsked] : sa ? ['system:serviceaccounts', `system:serviceaccounts:${sa.namespace}`] : [];
  const name = requestedUser;
  if (name !== 'system:anonymous') {
    if (!groups.includes('system:authenticated') && !groups.includes('system:unauthenticated')) groups.push('system:authenticated');
  } else if (!groups.includes('system:unauthenticated')) groups.push('system:unauthenticated');
  return { name, groups, ...(uid ? { uid } : {}), ...(Object.keys(extra).length ? { extra } : {}) };
}
