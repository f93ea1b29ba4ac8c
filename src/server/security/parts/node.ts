/**
 * The security part for Nodes: bootstrap tokens, node credentials (CSR), the Node authorizer and NodeRestriction admission.
 * (Registered in ../security.ts; contributes nothing yet.)
 */
import type { SecurityPart } from '../security-part.ts';

export const nodePart: SecurityPart = { name: 'node' };
