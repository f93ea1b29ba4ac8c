/**
 * The authorization.k8s.io/v1 reviews (pkg/registry/authorization/*): ask the authorizer about a
 * request and answer with the review's status — nothing is stored. SubjectAccessReview asks about
 * any user (spec.user, spec.groups, spec.extra, taken as given), LocalSubjectAccessReview the same
 * within its namespace, SelfSubjectAccessReview about the requester; SelfSubjectRulesReview lists
 * the requester's rules in a namespace (`kubectl auth can-i --list`). Invalid reviews are 422s as
 * pkg/apis/authorization/validation words them.
 */
import type { KubeObject } from '../apis/object.ts';
import { fieldError, type FieldError } from '../apis/field-errors.ts';
import { errors } from '../errors/index.ts';
import type { Attributes, Authorizer, UserInfo } from './attributes.ts';
import type { PolicyRule } from './rbac/policy-rule.ts';

const GROUP = 'authorization.k8s.io';

/** What SelfSubjectRulesReview asks: the rules a user holds in a namespace (authorizer.RuleResolver). */
export interface RuleResolver {
  rulesFor(user: UserInfo, namespace: string): PolicyRule[];
}

interface ReviewSpec {
  resourceAttributes?: Record<string, unknown> | null;
  nonResourceAttributes?: Record<string, unknown> | null;
  user?: string;
  groups?: string[];
  uid?: string;
  extra?: Record<string, string[]>;
}

const str = (v: unknown) => (typeof v === 'string' ? v : '');
const present = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** Metadata a review may carry and still count as empty: what serializers add. */
function metadataProblems(obj: KubeObject, allowNamespace: boolean): FieldError[] {
  const m = { ...(obj.metadata ?? {}) };
  delete m.managedFields;
  if (m.creationTimestamp === null || m.creationTimestamp === undefined) delete m.creationTimestamp;
  if (allowNamespace) delete m.namespace;
  if (Object.keys(m).length === 0) return [];
  return [fieldError.invalid('metadata', m, allowNamespace ? 'must be empty except for namespace' : 'must be empty')];
}

/** ValidateSelfSubjectAccessReviewSpec: exactly one of the two attribute kinds. */
function attributesProblems(spec: ReviewSpec): FieldError[] {
  const errs: FieldError[] = [];
  if (present(spec.resourceAttributes) && present(spec.nonResourceAttributes)) {
    errs.push(fieldError.invalid('spec.nonResourceAttributes', spec.nonResourceAttributes, 'cannot be specified in combination with resourceAttributes'));
  }
  if (!present(spec.resourceAttributes) && !present(spec.nonResourceAttributes)) {
    errs.push(fieldError.invalid('spec.resourceAttributes', null, 'exactly one of nonResourceAttributes or resourceAttributes must be specified'));
  }
  return errs;
}

function fail(kind: string, errs: FieldError[]): void {
  if (errs.length) throw errors.invalid(GROUP, kind, '', errs);
}

/** ResourceAttributesFrom / NonResourceAttributesFrom: the request the review asks about. */
export function reviewAttributes(user: UserInfo, spec: ReviewSpec): Attributes {
  const r = spec.resourceAttributes;
  if (present(r)) {
    return {
      user, verb: str(r.verb), isResourceRequest: true, path: '', apiGroup: str(r.group), apiVersion: str(r.version) || '*',
      resource: str(r.resource), subresource: str(r.subresource), namespace: str(r.namespace), name: str(r.name),
    };
  }
  const n = spec.nonResourceAttributes ?? {};
  return { user, verb: str(n.verb), isResourceRequest: false, path: str(n.path), apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '' };
}

/** The status every access review answers with. */
async function decide(authorizer: Authorizer, a: Attributes): Promise<Record<string, unknown>> {
  try {
    const d = await authorizer.authorize(a);
    return { allowed: d === 'allow', ...(d === 'deny' ? { denied: true } : {}) };
  } catch (err) {
    return { allowed: false, evaluationError: (err as Error).message };
  }
}

/** The review as answered: the object as sent (spec kept) with its status filled in. */
function answered(obj: KubeObject, kind: string, status: Record<string, unknown>): KubeObject {
  return { ...obj, apiVersion: `${GROUP}/v1`, kind, metadata: { ...(obj.metadata ?? {}) }, status };
}

/** The user a SubjectAccessReview's spec names, taken as given (no system:authenticated added). */
function specUser(spec: ReviewSpec): UserInfo {
  return {
    name: str(spec.user), groups: Array.isArray(spec.groups) ? spec.groups.map(String) : [],
    ...(spec.uid ? { uid: spec.uid } : {}), ...(present(spec.extra) ? { extra: spec.extra } : {}),
  };
}

/** ValidateSubjectAccessReviewSpec's user check plus the attribute checks. */
function subjectSpecProblems(spec: ReviewSpec): FieldError[] {
  const errs = attributesProblems(spec);
  if (!spec.user && !(Array.isArray(spec.groups) && spec.groups.length)) errs.push(fieldError.invalid('spec.user', str(spec.user), 'at least one of user or group must be specified'));
  return errs;
}

export async function subjectAccessReview(obj: KubeObject, authorizer: Authorizer): Promise<KubeObject> {
  const spec: ReviewSpec = obj.spec ?? {};
  fail('SubjectAccessReview', [...subjectSpecProblems(spec), ...metadataProblems(obj, false)]);
  return answered(obj, 'SubjectAccessReview', await decide(authorizer, reviewAttributes(specUser(spec), spec)));
}

/** `namespace`: the request's (the URL's); it must be the review's own and its resourceAttributes'. */
export async function localSubjectAccessReview(obj: KubeObject, namespace: string, authorizer: Authorizer): Promise<KubeObject> {
  const spec: ReviewSpec = obj.spec ?? {};
  const ns = str(obj.metadata?.namespace) || namespace;
  const errs = [...subjectSpecProblems(spec), ...metadataProblems(obj, true)];
  if (present(spec.resourceAttributes) && str(spec.resourceAttributes.namespace) !== ns) {
    errs.push(fieldError.invalid('spec.resourceAttributes.namespace', str(spec.resourceAttributes.namespace), 'must match metadata.namespace'));
  }
  if (present(spec.nonResourceAttributes)) errs.push(fieldError.invalid('spec.nonResourceAttributes', spec.nonResourceAttributes, 'disallowed on this kind of request'));
  fail('LocalSubjectAccessReview', errs);
  if (ns !== namespace) throw errors.badRequest(`spec.resourceAttributes.namespace must match namespace: ${namespace}`);
  const out = answered(obj, 'LocalSubjectAccessReview', await decide(authorizer, reviewAttributes(specUser(spec), spec)));
  out.metadata.namespace = namespace;
  return out;
}

export async function selfSubjectAccessReview(obj: KubeObject, user: UserInfo, authorizer: Authorizer): Promise<KubeObject> {
  const spec: ReviewSpec = obj.spec ?? {};
  fail('SelfSubjectAccessReview', [...attributesProblems(spec), ...metadataProblems(obj, false)]);
  return answered(obj, 'SelfSubjectAccessReview', await decide(authorizer, reviewAttributes(user, spec)));
}

/**
 * The requester's rules in spec.namespace, as RBAC's RulesFor splits them: resource rules and
 * non-resource rules; `incomplete` for a node, whose rights the Node authorizer decides per object.
 */
export function selfSubjectRulesReview(obj: KubeObject, user: UserInfo, resolver: RuleResolver): KubeObject {
  const namespace = str(obj.spec?.namespace);
  if (!namespace) throw errors.badRequest('no namespace on request');
  const resourceRules: Record<string, string[]>[] = [];
  const nonResourceRules: Record<string, string[]>[] = [];
  for (const r of resolver.rulesFor(user, namespace)) {
    if (r.resources?.length) {
      resourceRules.push({ verbs: r.verbs, apiGroups: r.apiGroups ?? [], resources: r.resources, ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}) });
    }
    if (r.nonResourceURLs?.length) nonResourceRules.push({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs });
  }
  // A node's rights are the Node authorizer's, per object: not a list of rules (as upstream answers).
  const isNode = user.groups.includes('system:nodes') && user.name.startsWith('system:node:');
  return answered(obj, 'SelfSubjectRulesReview', {
    resourceRules, nonResourceRules, incomplete: isNode,
    ...(isNode ? { evaluationError: 'node authorizer does not support user rule resolution' } : {}),
  });
}
