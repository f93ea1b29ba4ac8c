/**
 * Field table for authentication.k8s.io/v1 TokenRequest (the body of `kubectl create token`, POSTed
 * to serviceaccounts/NAME/token), TokenReview and SelfSubjectReview (`kubectl auth whoami`).
 * Upstream equivalent: k8s.io/api authentication/v1 generated.proto (Kubernetes 1.33, a superset of
 * 1.32). UserInfo's `extra` values are ExtraValue messages whose JSON is a plain list of strings
 * (a special type, special-types.ts). Notation: see schema-meta.ts.
 */
/** Field tables of authentication/v1 messages, by message name. */
export const authenticationMessages: Record<string, string> = {
  TokenRequest: '1 metadata ObjectMeta; 2 spec TokenRequestSpec; 3 status TokenRequestStatus',
  TokenRequestSpec: '1 audiences string[]; 3 boundObjectRef BoundObjectReference; 4 expirationSeconds int64!',
  BoundObjectReference: '1 kind string; 2 apiVersion string; 3 name string; 4 uid string',
  TokenRequestStatus: '1 token string; 2 expirationTimestamp Time',
  TokenReview: '1 metadata ObjectMeta; 2 spec TokenReviewSpec; 3 status TokenReviewStatus',
  TokenReviewSpec: '1 token string; 2 audiences string[]',
  TokenReviewStatus: '1 authenticated bool; 2 user UserInfo; 3 error string; 4 audiences string[]',
  UserInfo: '1 username string; 2 uid string; 3 groups string[]; 4 extra map<string,ExtraValue>',
  SelfSubjectReview: '1 metadata ObjectMeta; 2 status SelfSubjectReviewStatus',
  SelfSubjectReviewStatus: '1 userInfo UserInfo',
};
