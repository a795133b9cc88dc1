/** The last `capacity` uuids added, for membership tests (oldest forgotten first). */
export class RecentUuids {
  private readonly set = new Set<string>();
  private readonly ring: (string | undefined)[];
  private next = 0;

  constructor(readonly capacity: number) {
    this.ring = new Array<string | undefined>(capacity);
  }

  get size(): number {
    return this.set.size;
  }

  has(uuid: string): boolean {
    return this.set.has(uuid);
  }

  add(uuid: string): void {
    if (this.set.has(uuid)) return;
    const old = this.ring[this.next];
    if (old !== undefined) this.set.delete(old);
    this.ring[this.next] = uuid;
    this.set.add(uuid);
    this.next = (this.next + 1) % this.capacity;
  }
}
