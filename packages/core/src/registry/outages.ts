/**
 * When this process last failed to reach etcd. Presence (its keepalives and registrations) and the
 * engine (its passes) record failures; the engine reads {@link lastAt} to give machines time to
 * re-register after an outage before it treats their absence as a machine that left.
 */
export class RegistryOutages {
  #lastAt: number | undefined;

  /** Records a failed etcd call at `at` (ms since the epoch). */
  record(at: number): void {
    if (this.#lastAt === undefined || at > this.#lastAt) this.#lastAt = at;
  }

  /** The latest recorded failure, or undefined if etcd never failed. */
  get lastAt(): number | undefined {
    return this.#lastAt;
  }
}
