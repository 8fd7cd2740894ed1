import { describe, expect, it } from 'vitest';
import { mergeWakeups, runLoop, Wakeup } from './loop.js';
import { FakeClock } from './testing/fake-clock.js';
import { RecordingLogger } from './testing/recording-logger.js';

const intervalMs = 1_000;

/** A pass that counts its runs and can be held open until the test releases it. */
function countingPass() {
  let runs = 0;
  let hold: Promise<void> | undefined;
  let release: () => void = () => undefined;
  let waiters: Array<{ count: number; resolve: () => void }> = [];
  return {
    get runs() {
      return runs;
    },
    /** The next pass waits until {@link release} is called. */
    holdNext() {
      hold = new Promise<void>((resolve) => (release = resolve));
    },
    release: () => release(),
    /** Resolves once `count` passes have started. */
    started: (count: number): Promise<void> =>
      runs >= count ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ count, resolve })),
    pass: async (): Promise<void> => {
      runs++;
      const held = hold;
      hold = undefined;
      for (const w of waiters.filter((w) => runs >= w.count)) w.resolve();
      waiters = waiters.filter((w) => runs < w.count);
      if (held !== undefined) await held;
    },
  };
}

/** Starts a loop on a fake clock; `wake` is given the loop's signal. */
function start(pass: (signal: AbortSignal) => Promise<void>, wake?: (signal: AbortSignal) => AsyncIterable<void>, stop = new AbortController(), minGapMs?: number) {
  const clock = new FakeClock();
  const log = new RecordingLogger();
  const done = runLoop(
    { name: 'test', intervalMs, clock, log, signal: stop.signal, ...(wake === undefined ? {} : { wake: wake(stop.signal) }), ...(minGapMs === undefined ? {} : { minGapMs }) },
    pass,
  );
  return { clock, log, stop, done };
}

describe('runLoop', () => {
  it('runs the first pass at once, then one per interval', async () => {
    const counter = countingPass();
    const { clock, stop, done } = start(counter.pass);
    await clock.whenSleeping();
    expect(counter.runs).toBe(1);
    expect(clock.pendingSleeps).toEqual([intervalMs]);
    clock.advance(intervalMs - 1);
    expect(counter.runs).toBe(1);
    clock.advance(1);
    await counter.started(2);
    await clock.whenSleeping();
    expect(counter.runs).toBe(2);
    stop.abort();
    await done;
  });

  it('runs a pass as soon as it is woken while sleeping, without waiting for the interval', async () => {
    const counter = countingPass();
    const wake = new Wakeup();
    const { clock, stop, done } = start(counter.pass, (signal) => wake.stream(signal));
    await clock.whenSleeping();
    wake.notify();
    await counter.started(2);
    expect(counter.runs).toBe(2);
    expect(clock.now()).toBe(0);
    stop.abort();
    await done;
  });

  it('collapses the wake-ups that arrive during a pass into one more pass', async () => {
    const counter = countingPass();
    const wake = new Wakeup();
    counter.holdNext();
    const loop = start(counter.pass, (signal) => wake.stream(signal));
    await counter.started(1);
    wake.notify();
    wake.notify();
    wake.notify();
    // Let the wake-up pump see the notifications before the pass ends.
    await new Promise<void>((resolve) => setImmediate(resolve));
    counter.release();
    await loop.clock.whenSleeping();
    expect(counter.runs).toBe(2);
    loop.stop.abort();
    await loop.done;
  });

  it('with a minimum gap, runs the pass a wake-up during a pass asks for only once the gap since that pass began is over', async () => {
    const counter = countingPass();
    const wake = new Wakeup();
    counter.holdNext();
    const loop = start(counter.pass, (signal) => wake.stream(signal), new AbortController(), 100);
    await counter.started(1);
    wake.notify();
    await new Promise<void>((resolve) => setImmediate(resolve));
    loop.clock.advance(30); // the pass took 30 ms
    counter.release();
    await loop.clock.whenSleeping();
    expect(loop.clock.pendingSleeps).toEqual([70]);
    wake.notify(); // more wake-ups during the gap still make one pass
    await new Promise<void>((resolve) => setImmediate(resolve));
    loop.clock.advance(69);
    expect(counter.runs).toBe(1);
    loop.clock.advance(1);
    await counter.started(2);
    await loop.clock.whenSleeping();
    expect(counter.runs).toBe(2);
    expect(loop.clock.pendingSleeps).toEqual([intervalMs]);
    loop.stop.abort();
    await loop.done;
  });

  it('with a minimum gap, still runs a pass at once for the first wake-up after a quiet spell', async () => {
    const counter = countingPass();
    const wake = new Wakeup();
    const { clock, stop, done } = start(counter.pass, (signal) => wake.stream(signal), new AbortController(), 100);
    await clock.whenSleeping();
    clock.advance(500);
    wake.notify();
    await counter.started(2);
    expect(clock.now()).toBe(500);
    stop.abort();
    await done;
  });

  it('logs a failing pass and retries it at the next interval', async () => {
    let runs = 0;
    const { clock, log, stop, done } = start(async () => {
      runs++;
      if (runs === 1) throw new Error('etcd is down');
    });
    await clock.whenSleeping();
    expect(log.lines.filter((l) => l.level === 'error')).toEqual([
      { level: 'error', msg: 'pass failed', fields: { loop: 'test', err: new Error('etcd is down'), durationMs: 0 } },
    ]);
    clock.advance(intervalMs);
    await clock.whenSleeping();
    expect(runs).toBe(2);
    expect(log.messages('error')).toHaveLength(1);
    stop.abort();
    await done;
  });

  it('warns when a pass takes longer than the interval', async () => {
    let clockRef: FakeClock | undefined;
    const { clock, log, stop, done } = start(async () => {
      clockRef?.advance(intervalMs + 1);
    });
    clockRef = clock;
    await clock.whenSleeping();
    // The first pass ran before clockRef was set; the second one is slow.
    clock.advance(intervalMs);
    await clock.whenSleeping();
    expect(log.lines.filter((l) => l.level === 'warn')).toEqual([
      { level: 'warn', msg: 'pass took longer than the interval', fields: { loop: 'test', durationMs: intervalMs + 1 } },
    ]);
    stop.abort();
    await done;
  });

  it('stops while sleeping when aborted, and runs no further pass', async () => {
    const counter = countingPass();
    const { clock, stop, done } = start(counter.pass);
    await clock.whenSleeping();
    stop.abort();
    await done;
    expect(clock.sleeping).toBe(0);
    clock.advance(10 * intervalMs);
    expect(counter.runs).toBe(1);
  });

  it('stops after the pass in progress when aborted during it, without logging its failure', async () => {
    const stop = new AbortController();
    const { clock, log, done } = start(async (signal) => {
      stop.abort();
      signal.throwIfAborted();
    }, undefined, stop);
    await done;
    expect(log.lines).toEqual([]);
    expect(clock.sleeping).toBe(0);
  });

  it('goes on with the interval when the wake-up source fails', async () => {
    const counter = countingPass();
    async function* broken(): AsyncIterable<void> {
      throw new Error('watch failed');
    }
    const { clock, log, stop, done } = start(counter.pass, () => broken());
    await clock.whenSleeping();
    await expect.poll(() => log.messages('warn')).toEqual(['wake-up source failed; relying on the interval']);
    clock.advance(intervalMs);
    await clock.whenSleeping();
    expect(counter.runs).toBe(2);
    stop.abort();
    await done;
  });
});

describe('Wakeup', () => {
  it('collapses notifications made while nobody waits into one wake-up, and ends on abort', async () => {
    const wake = new Wakeup();
    const stop = new AbortController();
    const stream = wake.stream(stop.signal)[Symbol.asyncIterator]();
    wake.notify();
    wake.notify();
    expect(await stream.next()).toEqual({ done: false, value: undefined });
    const next = stream.next();
    stop.abort();
    expect(await next).toEqual({ done: true, value: undefined });
  });

  it('wakes a waiting stream on a later notification', async () => {
    const wake = new Wakeup();
    const stop = new AbortController();
    const stream = wake.stream(stop.signal)[Symbol.asyncIterator]();
    const next = stream.next();
    wake.notify();
    expect((await next).done).toBe(false);
    stop.abort();
  });
});

describe('mergeWakeups', () => {
  it('wakes on any source and ends when the signal aborts', async () => {
    const [a, b] = [new Wakeup(), new Wakeup()];
    const stop = new AbortController();
    const merged = mergeWakeups([a.stream(stop.signal), b.stream(stop.signal)], stop.signal)[Symbol.asyncIterator]();
    b.notify();
    expect((await merged.next()).done).toBe(false);
    a.notify();
    expect((await merged.next()).done).toBe(false);
    const next = merged.next();
    stop.abort();
    expect((await next).done).toBe(true);
  });
});
