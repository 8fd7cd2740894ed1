import type { Clock } from './clock.js';
import type { Logger } from './log.js';

/** Options of {@link runLoop}. */
export interface LoopOptions {
  readonly name: string;
  /** The safety net: a pass runs at least this often. */
  readonly intervalMs: number;
  readonly clock: Clock;
  readonly log: Logger;
  readonly signal: AbortSignal;
  /** Wake-ups (watch events, D-Bus signals). Each one requests a pass; several during a pass collapse into one. */
  readonly wake?: AsyncIterable<void>;
  /**
   * The least time from the start of one pass to the start of the next, when a wake-up asks for it
   * (default 0). The first wake-up after a quiet spell still runs a pass at once; during a burst
   * (a hundred units starting, each a few D-Bus signals) passes come at most once per gap and each
   * sees what the gap gathered, instead of one full pass per signal.
   */
  readonly minGapMs?: number;
}

/**
 * The one loop shape used by the engine, the agent and the state publisher: run a pass now, then again
 * when woken or when the interval elapses, never two passes at once. A failing pass is logged and the
 * loop goes on (the next pass retries: passes are level-triggered). Resolves when `signal` aborts.
 */
export async function runLoop(options: LoopOptions, pass: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const { clock, log, signal } = options;
  let woken = false;
  let interrupt: AbortController | undefined;
  const wakeUp = (): void => {
    woken = true;
    interrupt?.abort();
  };
  const pump = options.wake === undefined ? Promise.resolve() : (async () => {
    try {
      for await (const _ of options.wake ?? []) {
        if (signal.aborted) break;
        wakeUp();
      }
    } catch (err) {
      if (!signal.aborted) log.warn('wake-up source failed; relying on the interval', { loop: options.name, err });
    }
  })();
  try {
    while (!signal.aborted) {
      woken = false;
      const started = clock.now();
      try {
        await pass(signal);
      } catch (err) {
        if (signal.aborted) break;
        log.error('pass failed', { loop: options.name, err, durationMs: clock.now() - started });
      }
      const took = clock.now() - started;
      if (took > options.intervalMs) log.warn('pass took longer than the interval', { loop: options.name, durationMs: took });
      if (signal.aborted) break;
      if (!woken) {
        interrupt = new AbortController();
        try {
          await clock.sleep(options.intervalMs, AbortSignal.any([signal, interrupt.signal]));
        } catch {
          // woken, or stopping
        }
        interrupt = undefined;
      }
      const gapLeft = started + (options.minGapMs ?? 0) - clock.now();
      if (woken && gapLeft > 0 && !signal.aborted) await clock.sleep(gapLeft, signal).catch(() => undefined);
    }
  } finally {
    await pump;
  }
}

/**
 * Turns callbacks (D-Bus signals, lease renewals) into a wake-up stream for {@link runLoop}.
 * Notifications while nobody is waiting collapse into one.
 */
export class Wakeup {
  private pending = false;
  private waiter: (() => void) | undefined;

  notify = (): void => {
    this.pending = true;
    this.waiter?.();
  };

  /** Wake-ups until `signal` aborts. */
  async *stream(signal: AbortSignal): AsyncIterable<void> {
    const onAbort = (): void => this.waiter?.();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      while (!signal.aborted) {
        if (!this.pending) await new Promise<void>((resolve) => (this.waiter = resolve));
        this.waiter = undefined;
        if (signal.aborted) return;
        this.pending = false;
        yield;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
}

/** Merges wake-up streams into one, until `signal` aborts (the sources end with it too). */
export async function* mergeWakeups(sources: readonly AsyncIterable<void>[], signal: AbortSignal): AsyncIterable<void> {
  const wake = new Wakeup();
  const drains = sources.map(async (source) => {
    for await (const _ of source) wake.notify();
  });
  try {
    yield* wake.stream(signal);
  } finally {
    await Promise.allSettled(drains);
  }
}
