/** A map whose entries remember when they were stored; readers decide how old is too old. */
export class AgedCache<V> {
  private readonly items = new Map<string, { value: V; at: number }>();

  constructor(private readonly o: { now: () => number; maxEntries?: number }) {}

  get(key: string, maxAgeMs: number): { value: V; ageMs: number } | undefined {
    const hit = this.items.get(key);
    if (!hit) return undefined;
    const ageMs = this.o.now() - hit.at;
    return ageMs <= maxAgeMs ? { value: hit.value, ageMs } : undefined;
  }

  set(key: string, value: V): void {
    this.items.delete(key);
    this.items.set(key, { value, at: this.o.now() });
    // Oldest first in a Map's order: drop from the front when full.
    const max = this.o.maxEntries ?? 5000;
    while (this.items.size > max) this.items.delete(this.items.keys().next().value as string);
  }
}
