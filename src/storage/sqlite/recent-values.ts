/**
 * The value of the newest row this connection wrote for each of the most recently written keys, with
 * its revision: an update's or delete's previous value (its watch event's prevKv) without reading the
 * row's value back — update rows store their value once (log-rows.ts EVENT_COLUMNS), and the string is
 * the one the watch hub and the watch cache hold anyway. A key whose newest row is another (another
 * process's, or one pushed out) is read by the caller.
 */
export class RecentValues {
  /** Insertion order is the order of writes, oldest first. */
  private readonly values = new Map<string, { id: number; value: string }>();

  constructor(private readonly max = 16_384) {}

  /** The value of `key`'s row `id` if that is the row remembered. */
  get(key: string, id: number): string | undefined {
    const v = this.values.get(key);
    return v !== undefined && v.id === id ? v.value : undefined;
  }

  /** `key`'s newest row is `id` with `value` (undefined: a tombstone, nothing to remember). */
  wrote(key: string, id: number, value: string | undefined): void {
    this.values.delete(key); // re-inserted last
    if (value === undefined) return;
    this.values.set(key, { id, value });
    if (this.values.size > this.max) this.values.delete(this.values.keys().next().value!);
  }

  clear(): void {
    this.values.clear();
  }
}
