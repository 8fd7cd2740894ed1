/** Code-unit order, the one order of every API listing (and of etcd's keys). */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A set of strings kept sorted, so that a page of it costs O(log n + page). Inserts and deletes
 * shift an array (a memmove, fast next to any I/O); reads never sort.
 */
export class SortedKeys {
  private readonly keys: string[] = [];

  get size(): number { return this.keys.length; }

  add(key: string): void {
    const i = this.lowerBound(key);
    if (this.keys[i] !== key) this.keys.splice(i, 0, key);
  }

  delete(key: string): void {
    const i = this.lowerBound(key);
    if (this.keys[i] === key) this.keys.splice(i, 1);
  }

  /** Up to `limit` keys from position `offset`. */
  slice(offset: number, limit: number): readonly string[] {
    return this.keys.slice(offset, offset + limit);
  }

  /** Keys starting with `prefix`, from the `offset`-th such key, at most `limit`, and how many there are. */
  withPrefix(prefix: string, offset: number, limit: number): { keys: readonly string[]; total: number } {
    const start = this.lowerBound(prefix);
    const end = this.lowerBound(`${prefix}\uffff`);
    return { keys: this.keys.slice(start + offset, Math.min(end, start + offset + limit)), total: end - start };
  }

  values(): readonly string[] { return this.keys; }

  private lowerBound(key: string): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.keys[mid] as string) < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
