/**
 * Encoded answers of the cluster zone, reused while the records do not change: a query's bytes
 * after its ID (flags, question, EDNS record) and its transport map to the reply's bytes after the
 * ID. A hit skips decoding, resolving and encoding — the costly part of an answer in JavaScript. The
 * whole cache is dropped when the record source's generation moves (any Service, slice or pod
 * change), so an answer is never staler than the index. Forwarded answers are not cached here.
 */
export class AnswerCache {
  private readonly entries = new Map<string, Buffer>();
  private generation = -1;

  constructor(private readonly maxEntries = 10_000) {}

  private key(query: Buffer, transport: string): string {
    return transport + query.toString('latin1', 2);
  }

  /** The reply for `query` (its ID set) when cached at `generation`. */
  get(query: Buffer, transport: string, generation: number): Buffer | undefined {
    if (generation !== this.generation) {
      this.entries.clear();
      this.generation = generation;
      return undefined;
    }
    const hit = this.entries.get(this.key(query, transport));
    if (!hit) return undefined;
    const reply = Buffer.from(hit);
    query.copy(reply, 0, 0, 2);
    return reply;
  }

  set(query: Buffer, transport: string, generation: number, reply: Buffer): void {
    if (generation !== this.generation) return;
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(this.key(query, transport), Buffer.from(reply));
  }
}
