/**
 * Bytes appended one piece at a time, handed out in chunks of exactly `chunkBytes` (the last
 * one shorter). The record encoder writes each line straight into the chunk it will travel
 * in, so a line's bytes are copied once, never concatenated, and the compressor still sees
 * the fixed chunking that keeps its output identical on every retry (range-writer.ts).
 *
 * A chunk once taken is never written again: the compressor may still hold it. Chunks are
 * allocated at their first byte, not ahead: a builder that is never written (the rejected
 * records of a clean range) costs no memory, and V8 counts no external bytes for it.
 */
const EMPTY = Buffer.alloc(0);

export class ChunkBuilder {
  readonly chunkBytes: number;
  /** The chunk being filled; {@link EMPTY} until the first byte after a take. */
  #buf: Buffer = EMPTY;
  #pos = 0;
  #full: Buffer[] = [];
  /** Bytes appended so far. */
  #total = 0;

  constructor(chunkBytes: number) {
    if (!(chunkBytes >= 16)) throw new RangeError(`chunkBytes must be at least 16, got ${chunkBytes}`);
    this.chunkBytes = chunkBytes;
  }

  /** Bytes appended since the builder was made. */
  get total(): number {
    return this.#total + this.#pos;
  }

  /** Whole chunks appended and not yet taken. */
  get fullChunks(): number {
    return this.#full.length;
  }

  /** Bytes appended and not yet taken. */
  get pending(): number {
    let n = this.#pos;
    for (const c of this.#full) n += c.length;
    return n;
  }

  /** The chunk being filled is full (or none is open): a new one. */
  #rotate(): void {
    if (this.#buf.length > 0) {
      this.#full.push(this.#buf);
      this.#total += this.#buf.length;
    }
    this.#buf = Buffer.allocUnsafe(this.chunkBytes);
    this.#pos = 0;
  }

  byte(b: number): void {
    if (this.#pos === this.#buf.length) this.#rotate();
    this.#buf[this.#pos++] = b;
  }

  /** Appends `src[start, end)`. */
  bytes(src: Uint8Array, start = 0, end = src.length): void {
    let at = start;
    while (at < end) {
      if (this.#pos === this.#buf.length) this.#rotate();
      const n = Math.min(end - at, this.#buf.length - this.#pos);
      if (n < 32) {
        // A short copy costs less as a loop than as a call into native code.
        const buf = this.#buf;
        let pos = this.#pos;
        for (let i = at; i < at + n; i++) buf[pos++] = src[i] as number;
      } else {
        this.#buf.set(src.subarray(at, at + n), this.#pos);
      }
      this.#pos += n;
      at += n;
    }
  }

  /** Appends a string whose characters are all ASCII (digits, field names). */
  ascii(s: string): void {
    const n = s.length;
    if (this.#buf.length - this.#pos >= n) {
      const buf = this.#buf;
      let pos = this.#pos;
      for (let i = 0; i < n; i++) buf[pos++] = s.charCodeAt(i);
      this.#pos = pos;
      return;
    }
    for (let i = 0; i < n; i++) this.byte(s.charCodeAt(i));
  }

  /** Appends any string as UTF-8. */
  utf8(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.bytes(b);
  }

  /** The whole chunks appended so far; with `all`, the shorter rest too. */
  take(all: boolean): Buffer[] {
    const out = this.#full;
    this.#full = [];
    if (all && this.#pos > 0) {
      out.push(this.#buf.subarray(0, this.#pos));
      this.#total += this.#pos;
      this.#buf = EMPTY;
      this.#pos = 0;
    }
    return out;
  }
}
