/**
 * What one piece of cluster security contributes to the API server, so that each piece (RBAC,
 * ServiceAccounts, nodes, Pod Security) lives in a file of its own and security.ts only lists them:
 * token authenticators, authorizers (in chain order), admission plugins, and work that runs beside
 * the server (informers feeding an authorizer, token controllers, bootstrap objects).
 */
import type { TokenAuthenticator } from '../../auth/authn/authenticator.ts';
import type { Authorizer } from '../../auth/attributes.ts';
import type { InformerFactory } from '../../client/informer-factory.ts';
import type { LocalClient } from '../../client/local-client.ts';
import type { AdmissionPlugin } from '../../registry/admission/admission.ts';
import type { Registry } from '../../registry/registry.ts';
import type { Logger } from '../../util/log.ts';
import type { ClusterPki } from '../cluster-pki.ts';

/** What every part is built from. */
export interface SecurityContext {
  registry: Registry;
  /** A client that is the API server itself (no authorization): for bootstrap objects and caches. */
  client: LocalClient;
  /** Informers on `client`, started by security.ts after every part has asked for its own. */
  informers: InformerFactory;
  pki: ClusterPki;
  dataDir: string;
  /** The service CIDR (the `kubernetes` Service's ClusterIP is its first address). */
  serviceCidr: string;
  /** The address clients (pods, agents) reach the API server on. */
  advertiseAddress: string;
  port: number;
  log: Logger;
  /**
   * The whole authorization chain (system:masters, then every part's authorizers), set by
   * buildSecurity once every part has given its authorizers: for SubjectAccessReviews and the
   * `bind` / `escalate` checks, which ask the chain as a request would.
   */
  authorizer?: Authorizer;
  /** Every part's token authenticators in chain order, set by buildSecurity: for TokenReviews. */
  tokenAuthenticators?: readonly TokenAuthenticator[];
}

/** A running part's stop. */
export interface Stoppable {
  stop(): void | Promise<void>;
}

export interface SecurityPart {
  readonly name: string;
  tokenAuthenticators?(ctx: SecurityContext): TokenAuthenticator[];
  /** Authorizers after the privileged-group check, in order (Node before RBAC, as kube-apiserver). */
  authorizers?(ctx: SecurityContext): Authorizer[];
  admission?(ctx: SecurityContext): AdmissionPlugin[];
  /** Runs once the API server listens; `ready` resolves once its caches are filled. */
  start?(ctx: SecurityContext): Promise<Stoppable>;
}
