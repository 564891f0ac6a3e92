/**
 * The last N bytes of a stream, for error messages ("what did it say before it
 * died?") and the end of a capped log, without keeping the whole output in
 * memory. Chunks are kept as they came and whole chunks dropped once they
 * fall out of the window: each push costs the chunk, not the window (a
 * window of megabytes fed 64 KiB at a time must not copy megabytes each time).
 */
export class TailBuffer {
  readonly #capacity: number;
  #chunks: Buffer[] = [];
  /** Index of the oldest chunk still kept; the array is compacted now and then. */
  #first = 0;
  /** Bytes in the kept chunks: at most capacity plus the oldest chunk. */
  #length = 0;

  constructor(capacity: number) {
    this.#capacity = Math.max(0, capacity);
  }

  push(chunk: Buffer): void {
    const capacity = this.#capacity;
    if (capacity === 0 || chunk.length === 0) return;
    if (chunk.length >= capacity) {
      this.#chunks = [Buffer.from(chunk.subarray(chunk.length - capacity))];
      this.#first = 0;
      this.#length = capacity;
      return;
    }
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    for (;;) {
      const oldest = this.#chunks[this.#first]!;
      if (this.#length - oldest.length < capacity) break;
      this.#length -= oldest.length;
      this.#first += 1;
    }
    if (this.#first > 64 && this.#first * 2 > this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#first);
      this.#first = 0;
    }
  }

  /** How many bytes bytes() returns. */
  get length(): number {
    return Math.min(this.#length, this.#capacity);
  }

  /** The window's bytes, exactly (a character may be cut at its start). */
  bytes(): Buffer {
    const all = Buffer.concat(this.#chunks.slice(this.#first), this.#length);
    return all.subarray(all.length - this.length);
  }

  /** UTF-8 text; a character cut at the start of the window is dropped, not shown as U+FFFD. */
  toString(): string {
    const bytes = this.bytes();
    let start = 0;
    // Skip up to 3 continuation bytes (10xxxxxx) left over from a cut character.
    while (start < 3 && start < bytes.length && (bytes[start]! & 0xc0) === 0x80) {
      start += 1;
    }
    return bytes.subarray(start).toString('utf8');
  }
}
