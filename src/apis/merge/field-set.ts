/**
 * A set of field paths stored as a tree: at each node the elements that are members (the path ends
 * there) and the children (paths that go on). A node can be both — fieldsV1 writes that as `.: {}`.
 * Upstream: sigs.k8s.io/structured-merge-diff fieldpath/set.go and serialize.go (fieldsV1).
 */
import { comparePathElements, deserializePathElement, serializePathElement, type Path, type PathElement } from './path.ts';

interface Child { pe: PathElement; set: FieldSet }

export class FieldSet {
  /** Members and children keyed by their fieldsV1 key, which is unique per element. */
  readonly members = new Map<string, PathElement>();
  readonly children = new Map<string, Child>();

  static of(...paths: Path[]): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  insert(path: Path): void {
    if (path.length === 0) return;
    let node: FieldSet = this;
    for (let i = 0; i < path.length - 1; i++) {
      const k = serializePathElement(path[i]);
      let c = node.children.get(k);
      if (!c) {
        c = { pe: path[i], set: new FieldSet() };
        node.children.set(k, c);
      }
      node = c.set;
    }
    const last = path[path.length - 1];
    node.members.set(serializePathElement(last), last);
  }

  has(path: Path): boolean {
    if (path.length === 0) return false;
    let node: FieldSet | undefined = this;
    for (let i = 0; i < path.length - 1 && node; i++) node = node.children.get(serializePathElement(path[i]))?.set;
    return !!node && node.members.has(serializePathElement(path[path.length - 1]));
  }

  empty(): boolean {
    if (this.members.size) return false;
    for (const c of this.children.values()) if (!c.set.empty()) return false;
    return true;
  }

  /** The paths below `pe` (relative to it). */
  withPrefix(pe: PathElement): FieldSet {
    return this.children.get(serializePathElement(pe))?.set ?? EMPTY;
  }

  union(o: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) out.members.set(k, pe);
    for (const [k, pe] of o.members) out.members.set(k, pe);
    for (const [k, c] of this.children) {
      const oc = o.children.get(k);
      out.children.set(k, { pe: c.pe, set: oc ? c.set.union(oc.set) : c.set });
    }
    for (const [k, c] of o.children) if (!this.children.has(k)) out.children.set(k, c);
    return out;
  }

  intersection(o: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) if (o.members.has(k)) out.members.set(k, pe);
    for (const [k, c] of this.children) {
      const oc = o.children.get(k);
      if (!oc) continue;
      const i = c.set.intersection(oc.set);
      if (!i.empty()) out.children.set(k, { pe: c.pe, set: i });
    }
    return out;
  }

  /** Leaf-wise difference: a parent minus its child stays; a child minus its parent stays too. */
  difference(o: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) if (!o.members.has(k)) out.members.set(k, pe);
    for (const [k, c] of this.children) {
      const oc = o.children.get(k);
      if (!oc) out.children.set(k, c);
      else {
        const d = c.set.difference(oc.set);
        if (!d.empty()) out.children.set(k, { pe: c.pe, set: d });
      }
    }
    return out;
  }

  /** Like difference, but a member of `o` also removes everything below it. */
  recursiveDifference(o: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) if (!o.members.has(k)) out.members.set(k, pe);
    for (const [k, c] of this.children) {
      if (o.members.has(k)) continue;
      const oc = o.children.get(k);
      if (!oc) out.children.set(k, c);
      else {
        const d = c.set.recursiveDifference(oc.set);
        if (!d.empty()) out.children.set(k, { pe: c.pe, set: d });
      }
    }
    return out;
  }

  equals(o: FieldSet): boolean {
    return JSON.stringify(this.toFieldsV1()) === JSON.stringify(o.toFieldsV1());
  }

  /** Every member path, in fieldsV1 order. */
  paths(prefix: Path = []): Path[] {
    const out: Path[] = [];
    for (const { pe, member, child } of this.sortedEntries()) {
      if (member) out.push([...prefix, pe]);
      if (child) out.push(...child.paths([...prefix, pe]));
    }
    return out;
  }

  private sortedEntries(): { key: string; pe: PathElement; member: boolean; child?: FieldSet }[] {
    const entries = new Map<string, { key: string; pe: PathElement; member: boolean; child?: FieldSet }>();
    for (const [k, pe] of this.members) entries.set(k, { key: k, pe, member: true });
    for (const [k, c] of this.children) {
      if (c.set.empty()) continue;
      const e = entries.get(k);
      if (e) e.child = c.set;
      else entries.set(k, { key: k, pe: c.pe, member: false, child: c.set });
    }
    return [...entries.values()].sort((a, b) => comparePathElements(a.pe, b.pe));
  }

  /** The fieldsV1 form of managedFields (`{"f:spec":{"f:replicas":{}}}`), keys in upstream's order. */
  toFieldsV1(): Record<string, unknown> {
    return this.emit(false);
  }

  private emit(includeSelf: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const entries = this.sortedEntries();
    if (includeSelf && entries.length) out['.'] = {};
    for (const e of entries) out[e.key] = e.child ? e.child.emit(e.member) : {};
    return out;
  }

  /** Parses fieldsV1; throws on a malformed key or a value that is not an object. */
  static fromFieldsV1(v: unknown): FieldSet {
    const out = new FieldSet();
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('fieldsV1 must be an object');
    for (const [k, sub] of Object.entries(v as Record<string, unknown>)) {
      if (k === '.') continue;
      const pe = deserializePathElement(k);
      if (typeof sub !== 'object' || sub === null || Array.isArray(sub)) throw new Error(`fieldsV1 value at ${JSON.stringify(k)} must be an object`);
      const keys = Object.keys(sub);
      const child = FieldSet.fromFieldsV1(sub);
      // An empty object, or one marked `.`, means the path itself is a member.
      if (keys.length === 0 || keys.includes('.')) out.members.set(k, pe);
      if (!child.empty()) out.children.set(k, { pe, set: child });
    }
    return out;
  }
}

const EMPTY = new FieldSet();
