/**
 * The last N bytes of a stream, for error messages ("what did it say before it
 * died?") without keeping the whole output in memory.
 */
export class TailBuffer {
  readonly #capacity: number;
  #bytes: Buffer = Buffer.alloc(0);

  constructor(capacity: number) {
    this.#capacity = Math.max(0, capacity);
  }

  push(chunk: Buffer): void {
    const capacity = this.#capacity;
    if (chunk.length >= capacity) {
      this.#bytes = Buffer.from(chunk.subarray(chunk.length - capacity));
      return;
    }
    const keep = Math.min(this.#bytes.length, capacity - chunk.length);
    this.#bytes = Buffer.concat([this.#bytes.subarray(this.#bytes.length - keep), chunk]);
  }

  /** UTF-8 text; a character cut at the start of the window is dropped, not shown as U+FFFD. */
  toString(): string {
    let start = 0;
    // Skip up to 3 continuation bytes (10xxxxxx) left over from a cut character.
    while (start < 3 && start < this.#bytes.length && (this.#bytes[start]! & 0xc0) === 0x80) {
      start += 1;
    }
    return this.#bytes.subarray(start).toString('utf8');
  }
}
