/**
 * The plugin registry (names → factories) and the default profile: which filters run, in which
 * order (cheap, selective checks first, as kube-scheduler orders them), and which scores with what
 * weight (Kubernetes' default weights).
 */
import type { Plugin } from '../framework.ts';
import * as interPod from './inter-pod-affinity.ts';
import * as nodeAffinity from './node-affinity.ts';
import * as nodeName from './node-name.ts';
import * as nodePorts from './node-ports.ts';
import * as balanced from './node-resources-balanced-allocation.ts';
import * as fit from './node-resources-fit.ts';
import * as unschedulable from './node-unschedulable.ts';
import * as spread from './pod-topology-spread.ts';
import * as taints from './taint-toleration.ts';
import * as volumes from './volume-binding/volume-binding.ts';

/** Plugin factories by name; `args` is the plugin's own options object. */
export const registry: Record<string, (args?: any) => Plugin> = {
  [unschedulable.NAME]: unschedulable.nodeUnschedulable,
  [nodeName.NAME]: nodeName.nodeName,
  [taints.NAME]: taints.taintToleration,
  [nodeAffinity.NAME]: nodeAffinity.nodeAffinity,
  [nodePorts.NAME]: nodePorts.nodePorts,
  [fit.NAME]: fit.nodeResourcesFit,
  [volumes.NAME]: volumes.volumeBinding,
  [spread.NAME]: spread.podTopologySpread,
  [interPod.NAME]: interPod.interPodAffinity,
  [balanced.NAME]: balanced.nodeResourcesBalancedAllocation,
};

/** Which plugins run: filters in order, scores with weights, per-plugin options. */
export interface ProfileConfig {
  filters: string[];
  scores: { name: string; weight: number }[];
  args?: Record<string, unknown>;
}

/** kube-scheduler's default profile, restricted to the plugins Berth has. */
export const DEFAULT_PROFILE: ProfileConfig = {
  filters: [
    unschedulable.NAME, nodeName.NAME, taints.NAME, nodeAffinity.NAME, nodePorts.NAME,
    fit.NAME, volumes.NAME, spread.NAME, interPod.NAME,
  ],
  scores: [
    { name: taints.NAME, weight: 3 },
    { name: nodeAffinity.NAME, weight: 2 },
    { name: spread.NAME, weight: 2 },
    { name: interPod.NAME, weight: 2 },
    { name: fit.NAME, weight: 1 },
    { name: balanced.NAME, weight: 1 },
  ],
};

/** A built profile: plugin instances for the filter and score phases. */
export interface Profile {
  filters: Plugin[];
  scores: { plugin: Plugin; weight: number }[];
}

/** Instantiates a profile; an unknown plugin name throws. */
export function buildProfile(config: ProfileConfig = DEFAULT_PROFILE): Profile {
  const instances = new Map<string, Plugin>();
  const get = (name: string): Plugin => {
    let p = instances.get(name);
    if (!p) {
      const factory = registry[name];
      if (!factory) throw new Error(`unknown scheduler plugin ${JSON.stringify(name)}`);
      instances.set(name, (p = factory(config.args?.[name])));
    }
    return p;
  };
  return {
    filters: config.filters.map(get).filter((p) => p.filter),
    scores: config.scores.map((s) => ({ plugin: get(s.name), weight: s.weight })).filter((s) => s.plugin.score),
  };
}
