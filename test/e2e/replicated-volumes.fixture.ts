/**
 * What the replicated-volumes suite's case files share (replicated-volumes.test.ts runs them in
 * order on one 4-node storage lab): the lab, the claim `data`'s PV and bricks as the cases leave
 * them, kubectl and wait helpers that print the lab's state when a wait times out.
 */
import { execFileSync } from 'node:child_process';
import type { TestLab } from '../../src/lab/lab.fixture.ts';
import { glusterOn } from '../support/gluster-lab.ts';
import { assertOk, parseJson } from '../support/kubectl-assert.ts';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/**
 * The server's replica rebuild delay (the default): longer than the brick-node-killed case keeps its node
 * NotReady, so it heals the old brick, not rebuilds it (~5–12 s NotReady on a quiet lab; with 20 s one CI
 * run rebuilt, the node back too late under load, and the stays-down case found its spare taken).
 */
export const REBUILD_DELAY_S = 30;
export interface Brick { node: string; address: string; path: string }

/** The suite's shared state and helpers; `lab` is set in the suite's `before`. */
export class ReplicatedSuite {
  lab!: TestLab;
  /** The claim `data`'s PV (engine volume of the same name) and its bricks, as the bind case found them. */
  pvName = '';
  bricks: Brick[] = [];
  /** The disk-full case's small brick filesystems, unmounted (lazily: a brick may still hold a file) at its end or before the lab goes. */
  readonly smallMounts: string[] = [];

  k = async (args: string[], input?: string) => assertOk(await this.lab.kubectl(args, input), args.join(' '));
  json = async (args: string[]) => parseJson<any>(await this.k([...args, '-o', 'json']), args.join(' '));
  waitFor = async <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 120_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      try { const v = await fn(); if (v) return v; last = v; } catch (err) { last = err; }
      await sleep(500);
    }
    const lab = this.lab;
    const objects = await lab.kubectl(['get', 'nodes,pv,pvc,pods', '-o', 'wide']).then((r) => r.stdout + r.stderr, (e) => String(e));
    const events = await lab.kubectl(['get', 'events', '-A']).then((r) => r.stdout.split('\n').slice(-25).join('\n'), () => '');
    const logs = lab.state().nodes.map((n) => `--- ${n.name}\n${lab.logTail(n.name, 8)}`).join('\n');
    throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})\n${objects}\n${events}\n${logs}`);
  };
  node = (name: string) => this.lab.state().nodes.find((n) => n.name === name)!;
  /** The lab node holding no brick of `data` (as the suite last saw its bricks). */
  spare = () => this.lab.state().nodes.map((n) => n.name).find((n) => !this.bricks.some((b) => b.node === n))!;
  gluster = (name: string, ...args: string[]) => glusterOn(this.lab, name, ...args);
  pvMessage = async () => (await this.json(['get', 'pv', this.pvName])).status?.message ?? '';
  events = async (reason: string) => (await this.json(['get', 'events', '-A', '--field-selector', `reason=${reason}`])).items as any[];
  podPhase = async (name: string) => (await this.json(['get', 'pod', name])).status?.phase;
  unmountSmall = () => {
    for (const dir of this.smallMounts.splice(0)) {
      try { execFileSync('umount', ['-l', dir]); } catch { /* not mounted */ }
    }
  };
}
