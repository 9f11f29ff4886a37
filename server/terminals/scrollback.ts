/**
 * The recent output of a terminal, addressed by absolute stream offset (bytes since the terminal
 * started), so a client that reconnects can say "I have everything up to N" and get exactly the
 * rest: no duplicated and no lost output while the bytes are still held.
 */
export class Scrollback {
  private chunks: Buffer[] = [];
  private size = 0;
  private startOffset = 0; // offset of chunks[0][0]

  constructor(private readonly capacity: number) {}

  get end(): number {
    return this.startOffset + this.size;
  }
  get start(): number {
    return this.startOffset;
  }

  append(data: Buffer): void {
    this.chunks.push(data);
    this.size += data.length;
    while (this.size - (this.chunks[0]?.length ?? 0) >= this.capacity && this.chunks.length > 1) {
      const c = this.chunks.shift()!;
      this.size -= c.length;
      this.startOffset += c.length;
    }
    if (this.size > this.capacity * 2) {
      // one huge chunk: keep only its tail
      const all = Buffer.concat(this.chunks);
      const cut = all.length - this.capacity;
      this.chunks = [all.subarray(cut)];
      this.size = this.capacity;
      this.startOffset += cut;
    }
  }

  /** Bytes from `offset` to the end; `complete` is false when part of them was already dropped. */
  since(offset: number): { data: Buffer; from: number; complete: boolean } {
    if (!Number.isFinite(offset) || offset < 0 || offset > this.end) offset = this.startOffset - 1; // unknown: replay all
    const complete = offset >= this.startOffset;
    const from = complete ? offset : this.startOffset;
    const all = Buffer.concat(this.chunks);
    return { data: all.subarray(from - this.startOffset), from, complete };
  }
}
