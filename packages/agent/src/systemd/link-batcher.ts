/**
 * Coalesces `LinkUnitFiles` calls: links asked for while one call is in flight (or within the same
 * turn of the event loop) go out together in the next call, one D-Bus round trip and one pass of
 * systemd over its unit directories for the lot. systemd's cost per call grows with the number of
 * links it holds, so linking 100 units one call each costs seconds; batched, tens of milliseconds.
 * When a batch call fails, each of its files is linked on its own, so that only the files that
 * cannot be linked fail (with their own error).
 */
export class LinkBatcher {
  #queued: { readonly path: string; readonly resolve: () => void; readonly reject: (err: unknown) => void }[] = [];
  #running = false;

  constructor(private readonly link: (paths: readonly string[]) => Promise<void>) {}

  /** Resolves once `path` is linked; rejects with the error of linking it alone. */
  linkFile(path: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queued.push({ path, resolve, reject });
      if (!this.#running) {
        this.#running = true;
        setImmediate(() => void this.#drain());
      }
    });
  }

  async #drain(): Promise<void> {
    while (this.#queued.length > 0) {
      const batch = this.#queued;
      this.#queued = [];
      try {
        await this.link([...new Set(batch.map((b) => b.path))]);
        for (const b of batch) b.resolve();
      } catch {
        for (const b of batch) await this.link([b.path]).then(b.resolve, b.reject);
      }
    }
    this.#running = false;
  }
}
