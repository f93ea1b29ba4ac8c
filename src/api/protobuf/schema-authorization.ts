/**
 * Field table for authorization.k8s.io/v1 SelfSubjectAccessReview and SelfSubjectRulesReview, the
 * bodies of `kubectl auth can-i` and `kubectl auth can-i --list`. SubjectAccessReview and
 * LocalSubjectAccessReview are not decoded: their spec's `extra` is a map of ExtraValue messages
 * whose JSON is a plain list, and kubectl never sends them as protobuf (send JSON).
 * Upstream equivalent: k8s.io/api authorization/v1 generated.proto (Kubernetes 1.33, a superset of
 * 1.32); FieldSelectorRequirement is meta/v1's. Notation: see schema-meta.ts.
 */
/** Field tables of authorization/v1 messages, by message name. */
export const authorizationMessages: Record<string, string> = {
  SelfSubjectAccessReview: '1 metadata ObjectMeta; 2 spec SelfSubjectAccessReviewSpec; 3 status SubjectAccessReviewStatus',
  SelfSubjectAccessReviewSpec: '1 resourceAttributes ResourceAttributes; 2 nonResourceAttributes NonResourceAttributes',
  ResourceAttributes: `1 namespace string; 2 verb string; 3 group string; 4 version string; 5 resource string;
    6 subresource string; 7 name string; 8 fieldSelector FieldSelectorAttributes; 9 labelSelector LabelSelectorAttributes`,
  FieldSelectorAttributes: '1 rawSelector string; 2 requirements FieldSelectorRequirement[]',
  FieldSelectorRequirement: '1 key string!; 2 operator string!; 3 values string[]',
  LabelSelectorAttributes: '1 rawSelector string; 2 requirements LabelSelectorRequirement[]',
  NonResourceAttributes: '1 path string; 2 verb string',
  SubjectAccessReviewStatus: '1 allowed bool!; 2 reason string; 3 evaluationError string; 4 denied bool',
  SelfSubjectRulesReview: '1 metadata ObjectMeta; 2 spec SelfSubjectRulesReviewSpec; 3 status SubjectRulesReviewStatus',
  SelfSubjectRulesReviewSpec: '1 namespace string',
  SubjectRulesReviewStatus: '1 resourceRules ResourceRule[]; 2 nonResourceRules NonResourceRule[]; 3 incomplete bool!; 4 evaluationError string',
  ResourceRule: '1 verbs string[]; 2 apiGroups string[]; 3 resources string[]; 4 resourceNames string[]',
  NonResourceRule: '1 verbs string[]; 2 nonResourceURLs string[]',
};
