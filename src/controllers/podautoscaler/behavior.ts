/**
 * From a computed recommendation to the replica count to set (horizontal.go's
 * normalizeDesiredReplicas / normalizeDesiredReplicasWithBehaviors): stabilization over the window's
 * recent recommendations (scale up to the lowest of them, down to the highest), then the rate limits
 * of the scaling policies over the scale events of each policy's period (selectPolicy Max, Min or
 * Disabled), then minReplicas/maxReplicas — each limit naming the ScalingLimited condition it sets.
 * Without `behavior` the pre-behavior rules apply: a 5 min scale-down window and scale-up to at
 * most max(2 × current, 4).
 */

export interface ScalingPolicy { type: 'Pods' | 'Percent'; value: number; periodSeconds: number }
export interface ScalingRules { stabilizationWindowSeconds?: number; selectPolicy?: 'Max' | 'Min' | 'Disabled'; policies?: ScalingPolicy[] }
export interface Behavior { scaleUp?: ScalingRules; scaleDown?: ScalingRules }

/** Upstream's defaults (GenerateHPAScaleUpRules / GenerateHPAScaleDownRules). */
export const DEFAULT_SCALE_UP: Required<ScalingRules> = {
  stabilizationWindowSeconds: 0, selectPolicy: 'Max',
  policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }],
};
export const DEFAULT_SCALE_DOWN: Required<ScalingRules> = {
  stabilizationWindowSeconds: 300, selectPolicy: 'Max',
  policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
};
/** --horizontal-pod-autoscaler-downscale-stabilization, for HPAs without behavior. */
export const DOWNSCALE_STABILIZATION_MS = 5 * 60_000;

export interface Recommendation { replicas: number; timestamp: number }
export interface ScaleEvent { change: number; timestamp: number }

/** What the controller remembers per HPA between syncs (in memory, as upstream). */
export interface ScalingHistory {
  recommendations: Recommendation[];
  scaleUpEvents: ScaleEvent[];
  scaleDownEvents: ScaleEvent[];
}

export const emptyHistory = (): ScalingHistory => ({ recommendations: [], scaleUpEvents: [], scaleDownEvents: [] });

export interface Normalized {
  replicas: number;
  /** ScalingLimited: reason and message (DesiredWithinRange when nothing limited it). */
  limited: { status: boolean; reason: string; message: string };
  /** AbleToScale's reason when stabilization held the count back (ScaleUpStabilized / ScaleDownStabilized). */
  stabilized?: { reason: string; message: string };
}

const withinRange = { status: false, reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };

function changeInPeriod(events: ScaleEvent[], periodSeconds: number, now: number): number {
  const cutoff = now - periodSeconds * 1000;
  return events.filter((e) => e.timestamp > cutoff).reduce((s, e) => s + e.change, 0);
}

/** The most replicas the scale-up policies allow now. */
export function scaleUpLimit(current: number, h: ScalingHistory, rules: Required<ScalingRules>, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pick = rules.selectPolicy === 'Min' ? Math.min : Math.max;
  let result = rules.selectPolicy === 'Min' ? Infinity : -Infinity;
  for (const p of rules.policies) {
    const start = current - changeInPeriod(h.scaleUpEvents, p.periodSeconds, now) + changeInPeriod(h.scaleDownEvents, p.periodSeconds, now);
    const proposed = p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

/** The fewest replicas the scale-down policies allow now. */
export function scaleDownLimit(current: number, h: ScalingHistory, rules: Required<ScalingRules>, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  // Max picks the policy allowing the biggest change: the lowest limit.
  const pick = rules.selectPolicy === 'Min' ? Math.max : Math.min;
  let result = rules.selectPolicy === 'Min' ? -Infinity : Infinity;
  for (const p of rules.policies) {
    const start = current - changeInPeriod(h.scaleUpEvents, p.periodSeconds, now) + changeInPeriod(h.scaleDownEvents, p.periodSeconds, now);
    const proposed = p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

function withDefaults(rules: ScalingRules | undefined, d: Required<ScalingRules>): Required<ScalingRules> {
  return {
    stabilizationWindowSeconds: rules?.stabilizationWindowSeconds ?? d.stabilizationWindowSeconds,
    selectPolicy: rules?.selectPolicy ?? d.selectPolicy,
    policies: rules?.policies?.length ? rules.policies : d.policies,
  };
}

/** Stabilization: the recommendation to use, after recording this one. */
function stabilize(h: ScalingHistory, current: number, desired: number, upWindowMs: number, downWindowMs: number, now: number): { replicas: number; reason?: string; message?: string } {
  let up = desired;
  let down = desired;
  const keepFor = Math.max(upWindowMs, downWindowMs);
  for (const r of h.recommendations) {
    if (r.timestamp > now - upWindowMs) up = Math.min(up, r.replicas);
    if (r.timestamp > now - downWindowMs) down = Math.max(down, r.replicas);
  }
  h.recommendations = h.recommendations.filter((r) => r.timestamp > now - keepFor);
  h.recommendations.push({ replicas: desired, timestamp: now });
  let replicas = current;
  if (replicas < up) replicas = up;
  if (replicas > down) replicas = down;
  if (replicas !== desired) {
    return replicas < desired
      ? { replicas, reason: 'ScaleUpStabilized', message: 'recent recommendations were lower than current one, applying the lowest recent recommendation' }
      : { replicas, reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' };
  }
  return { replicas };
}

/** The count to set for a recommendation; see the file comment. Records the recommendation in `h`. */
export function normalizeReplicas(args: {
  current: number; desired: number; minReplicas: number; maxReplicas: number; behavior?: Behavior; history: ScalingHistory; now: number;
}): Normalized {
  const { current, minReplicas, maxReplicas, behavior, history: h, now } = args;
  if (!behavior) {
    // Upstream's stabilizeRecommendation: the highest recommendation of the window, whatever the current count.
    h.recommendations = h.recommendations.filter((r) => r.timestamp > now - DOWNSCALE_STABILIZATION_MS);
    const highest = Math.max(args.desired, ...h.recommendations.map((r) => r.replicas));
    h.recommendations.push({ replicas: args.desired, timestamp: now });
    const st = highest !== args.desired
      ? { replicas: highest, reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' }
      : { replicas: highest };
    const upLimit = Math.max(2 * current, 4);
    let desired = st.replicas;
    let limited = withinRange;
    const maximum = Math.min(upLimit, maxReplicas);
    if (desired < minReplicas) { desired = minReplicas; limited = { status: true, reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' }; }
    else if (desired > maximum) {
      limited = maximum === upLimit && upLimit < maxReplicas
        ? { status: true, reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' }
        : { status: true, reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' };
      desired = maximum;
    }
    return { replicas: desired, limited, stabilized: st.reason ? { reason: st.reason, message: st.message } : undefined };
  }
  const up = withDefaults(behavior.scaleUp, DEFAULT_SCALE_UP);
  const down = withDefaults(behavior.scaleDown, DEFAULT_SCALE_DOWN);
  const st = stabilize(h, current, args.desired, up.stabilizationWindowSeconds * 1000, down.stabilizationWindowSeconds * 1000, now);
  let desired = st.replicas;
  let limited = withinRange;
  if (desired > current) {
    const limit = Math.max(scaleUpLimit(current, h, up, now), current);
    let maximum = maxReplicas;
    let reason = { status: true, reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' };
    if (maximum > limit) { maximum = limit; reason = { status: true, reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' }; }
    if (desired > maximum) { desired = maximum; limited = reason; }
  } else if (desired < current) {
    const limit = Math.min(scaleDownLimit(current, h, down, now), current);
    let minimum = minReplicas;
    let reason = { status: true, reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' };
    if (minimum < limit) { minimum = limit; reason = { status: true, reason: 'ScaleDownLimit', message: 'the desired replica count is decreasing faster than the maximum scale rate' }; }
    if (desired < minimum) { desired = minimum; limited = reason; }
  } else if (desired < minReplicas || desired > maxReplicas) {
    const clamped = Math.min(Math.max(desired, minReplicas), maxReplicas);
    limited = clamped > desired
      ? { status: true, reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' }
      : { status: true, reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' };
    desired = clamped;
  }
  return { replicas: desired, limited, stabilized: st.reason ? { reason: st.reason, message: st.message! } : undefined };
}

/** Records a rescale in the history (scale events), pruning what no policy period still needs. */
export function recordScale(h: ScalingHistory, from: number, to: number, behavior: Behavior | undefined, now: number): void {
  const longest = (r: ScalingRules | undefined, d: Required<ScalingRules>) => Math.max(0, ...withDefaults(r, d).policies.map((p) => p.periodSeconds)) * 1000;
  if (to > from) {
    h.scaleUpEvents = h.scaleUpEvents.filter((e) => e.timestamp > now - longest(behavior?.scaleUp, DEFAULT_SCALE_UP));
    h.scaleUpEvents.push({ change: to - from, timestamp: now });
  } else if (to < from) {
    h.scaleDownEvents = h.scaleDownEvents.filter((e) => e.timestamp > now - longest(behavior?.scaleDown, DEFAULT_SCALE_DOWN));
    h.scaleDownEvents.push({ change: from - to, timestamp: now });
  }
}
