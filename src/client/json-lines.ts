/**
 * Incremental splitter for a newline-delimited JSON stream (a watch response): feed it text chunks as
 * they arrive — a line may be split across any number of chunks — and it calls `onValue` once per
 * complete line, in order.
 */
export class JsonLineParser {
  private buf = '';

  constructor(private readonly onValue: (value: unknown) => void) {}

  /** Adds a chunk of text (already decoded; use a streaming decoder for multi-byte characters). */
  push(chunk: string): void {
    this.buf += chunk;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl).trim();
      this.buf = this.buf.slice(nl + 1);
      if (line) this.onValue(JSON.parse(line));
    }
  }

  /** Ends the stream: a final line without a newline is parsed too. */
  end(): void {
    const line = this.buf.trim();
    this.buf = '';
    if (line) this.onValue(JSON.parse(line));
  }
}
