/**
 * The security part for Pod Security admission (privileged / baseline / restricted by namespace labels).
 * (Registered in ../security.ts; contributes nothing yet.)
 */
import type { SecurityPart } from '../security-part.ts';

export const podSecurityPart: SecurityPart = { name: 'pod-security' };
