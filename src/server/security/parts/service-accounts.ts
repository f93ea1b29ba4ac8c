/**
 * The security part for ServiceAccounts: signed tokens, TokenRequest, the token authenticator, ServiceAccount admission, in-cluster access.
 * (Registered in ../security.ts; contributes nothing yet.)
 */
import type { SecurityPart } from '../security-part.ts';

export const serviceAccountsPart: SecurityPart = { name: 'service-accounts' };
