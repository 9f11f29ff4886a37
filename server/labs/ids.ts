import "server-only";

/**
 * Host uid/gid ranges for labs (root mode). Lab slot N maps its ids 0..65535 onto
 * base + N*idsPerLab ...: no two live labs share a host uid, so one lab's root can neither signal nor
 * ptrace another's processes, nor touch its files.
 */
export class IdRanges {
  private used = new Set<number>();
  constructor(
    private base: number,
    private slots: number,
    private idsPerLab: number,
  ) {}

  acquire(): { slot: number; hostId: number } | null {
    for (let i = 0; i < this.slots; i++) {
      if (this.used.has(i)) continue;
      this.used.add(i);
      return { slot: i, hostId: this.base + i * this.idsPerLab };
    }
    return null;
  }

  release(slot: number): void {
    this.used.delete(slot);
  }
}
