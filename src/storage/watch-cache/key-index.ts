/**
 * The watch cache's in-memory state: every cached key's current KeyValue (the stored bytes as the
 * store returned them, never decoded), and the keys in store order for prefix ranges — upstream's
 * watchCache store with its btree index (k8s.io/apiserver/pkg/storage/cacher/store_btree.go).
 *
 * The order is a sorted list of small blocks (at most 2 × BLOCK keys each, split when full): a create
 * or delete costs a binary search and a splice within one block, an update nothing, and a read no
 * repair. (It was one sorted array rebuilt by a merge on the first read after any create or delete:
 * under churn every list and count allocated a new array of all the cached keys — a 264 KB object in
 * V8's large-object space per read at 33,000 keys, garbage that only a full GC frees; the 5,000-node
 * scale run's cache-on server carried up to 348 MB of it.)
 */
import type { KeyValue } from '../backend.ts';
import { prefixEndString } from '../key-range.ts';

/** Keys per block after a split; a block holds at most twice this. */
const BLOCK = 256;

/** A key's place in the order: its current value, replaced in place by an update. */
interface Cell { kv: KeyValue }

/** First index in `cells` (sorted by key) whose key is >= `k`. */
function lowerBound(cells: Cell[], k: string): number {
  let lo = 0;
  let hi = cells.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cells[mid].kv.key < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A position in the blocks: block `b`, index `i` (b === blocks.length: past the end). */
interface Position { b: number; i: number }

/** Current values of the cached keys, with prefix ranges in key order. */
export class KeyIndex {
  private readonly values = new Map<string, Cell>();
  /**
   * The keys' cells in key order, in blocks; no block is empty. Cells, not keys: a range reads each
   * value from its cell (~1–2 ms for 150,000 pods) where looking each key up in a Map took 30–110 ms
   * of the loop at every list's start (load 5), and an update replaces the value in its cell.
   */
  private blocks: Cell[][] = [];

  get size(): number {
    return this.values.size;
  }

  get(key: string): KeyValue | undefined {
    return this.values.get(key)?.kv;
  }

  /** Records a key's new value (create or update). */
  put(kv: KeyValue): void {
    const cell = this.values.get(kv.key);
    if (cell) {
      cell.kv = kv;
      return;
    }
    const added = { kv };
    this.insert(added);
    this.values.set(kv.key, added);
  }

  /** Records a key's deletion. */
  remove(key: string): void {
    if (!this.values.delete(key)) return;
    const { b, i } = this.locate(key);
    const block = this.blocks[b];
    if (block?.[i]?.kv.key !== key) return;
    block.splice(i, 1);
    if (block.length === 0) this.blocks.splice(b, 1);
  }

  /** Forgets everything (a re-list follows). */
  clear(): void {
    this.values.clear();
    this.blocks = [];
  }

  /**
   * The current values of the keys under `prefix`, in key order: an array of references to the
   * (immutable) KeyValues, so holding it as a snapshot costs one pointer per key.
   */
  range(prefix: string): KeyValue[] {
    const { start, end } = this.bounds(prefix);
    const out = new Array<KeyValue>(this.distance(start, end));
    let n = 0;
    for (let b = start.b; b < this.blocks.length && (b < end.b || (b === end.b && end.i > 0)); b++) {
      const block = this.blocks[b];
      const from = b === start.b ? start.i : 0;
      const to = b === end.b ? end.i : block.length;
      for (let i = from; i < to; i++) out[n++] = block[i].kv;
    }
    return out;
  }

  /** How many keys lie under `prefix`. */
  count(prefix: string): number {
    const { start, end } = this.bounds(prefix);
    return this.distance(start, end);
  }

  private insert(cell: Cell): void {
    if (this.blocks.length === 0) {
      this.blocks.push([cell]);
      return;
    }
    let { b, i } = this.locate(cell.kv.key);
    if (b === this.blocks.length) {
      b--;
      i = this.blocks[b].length;
    }
    const block = this.blocks[b];
    block.splice(i, 0, cell);
    if (block.length > 2 * BLOCK) this.blocks.splice(b + 1, 0, block.splice(BLOCK));
  }

  /** The position of the first key >= `k`. */
  private locate(k: string): Position {
    let lo = 0;
    let hi = this.blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const block = this.blocks[mid];
      if (block[block.length - 1].kv.key < k) lo = mid + 1;
      else hi = mid;
    }
    return lo === this.blocks.length ? { b: lo, i: 0 } : { b: lo, i: lowerBound(this.blocks[lo], k) };
  }

  private bounds(prefix: string): { start: Position; end: Position } {
    const start = this.locate(prefix);
    const upper = prefixEndString(prefix);
    const end = upper === undefined ? { b: this.blocks.length, i: 0 } : this.locate(upper);
    return { start, end };
  }

  /** Keys from `start` (inclusive) to `end` (exclusive); `end` is never before `start`. */
  private distance(start: Position, end: Position): number {
    if (start.b === end.b) return end.i - start.i;
    let n = this.blocks[start.b].length - start.i;
    for (let b = start.b + 1; b < end.b; b++) n += this.blocks[b].length;
    return n + end.i;
  }
}

/** Position of the first item of `items` (in key order) whose key is > `after`. */
export function indexAfter(items: KeyValue[], after: string): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (items[mid].key <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
