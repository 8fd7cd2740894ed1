/**
 * Ctrl-C (SIGINT) as commands that end cleanly on it see it (`journal -f`). While no command has
 * captured it, Ctrl-C ends fleetctl as usual; `bin/fleetctl.ts` provides the process's.
 */
export interface Interrupts {
  /**
   * From now until {@link CapturedInterrupt.release}, Ctrl-C aborts the returned signal instead of
   * ending the process (a second Ctrl-C may still end it).
   */
  capture(): CapturedInterrupt;
}

/** Ctrl-C while captured: see {@link Interrupts.capture}. */
export interface CapturedInterrupt {
  /** Aborts on Ctrl-C. */
  readonly signal: AbortSignal;
  /** Gives Ctrl-C back (idempotent). */
  release(): void;
}

/** {@link Interrupts} that never come: for tests and the completion sandbox. */
export const noInterrupts: Interrupts = {
  capture: () => ({ signal: new AbortController().signal, release: () => undefined }),
};
