/**
 * Which node a user is (pkg/auth/nodeidentifier): a user named `system:node:<name>` in the group
 * `system:nodes`. Both are needed — a user named like a node but outside the group is an ordinary
 * user, and a member of the group with another name is a node whose name is unknown.
 */
import type { UserInfo } from '../attributes.ts';

export const NODES_GROUP = 'system:nodes';
export const NODE_USER_PREFIX = 'system:node:';

/** `system:node:<name>`, the user a node's credentials name. */
export function nodeUser(nodeName: string): string {
  return NODE_USER_PREFIX + nodeName;
}

/** `{ isNode, nodeName }`; nodeName is '' for a member of system:nodes whose name does not say which node. */
export function nodeIdentity(user: UserInfo): { isNode: boolean; nodeName: string } {
  if (!user.groups.includes(NODES_GROUP)) return { isNode: false, nodeName: '' };
  const nodeName = user.name.startsWith(NODE_USER_PREFIX) ? user.name.slice(NODE_USER_PREFIX.length) : '';
  return { isNode: true, nodeName };
}
