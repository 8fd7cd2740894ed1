import { describe, expect, it } from 'vitest';
import { silentLogger, systemClock, Wakeup } from '@fleet/core';
import { hashUnitFile, parseUnitFile, parseUnitName, type UnitName, type UnitState } from '@fleet/core/model';
import { aMachine } from '@fleet/core/testing';
import { InMemoryUnitManager } from './testing/memory-unit-manager.js';
import type { UnitStateSink } from '@fleet/core/registry';
import { UnitStatePublisher } from './unit-state-publisher.js';

const machine = aMachine('m');
const file = parseUnitFile('[Service]\nExecStart=/bin/sleep 1000\n');
const [a, b] = ['a.service', 'b.service'].map(parseUnitName) as [UnitName, UnitName];

/** A sink that records writes and can fail the writes of one unit. */
function recordingSink() {
  const writes: string[] = [];
  let failing: UnitName | undefined;
  let renewed: (() => void) | undefined;
  const publishState = async (s: UnitState): Promise<void> => {
    if (s.name === failing) throw new Error(`cannot write ${s.name}`);
    writes.push(`put ${s.name} ${s.activeState}/${s.subState}${s.agentState === 'loaded' ? '' : ` agent:${String(s.agentState)}`}`);
  };
  const deleteState = async (name: UnitName): Promise<void> => {
    writes.push(`delete ${name}`);
  };
  const sink: UnitStateSink = {
    publishState,
    deleteState,
    writeStates: async ({ publish, remove }) => {
      const written = new Set<UnitName>();
      let failure: unknown;
      for (const s of publish) await publishState(s).then(() => written.add(s.name), (err: unknown) => (failure ??= err));
      for (const name of remove) await deleteState(name).then(() => written.add(name));
      return failure === undefined ? { written } : { written, failure };
    },
    onRenewed: (listener) => {
      renewed = listener;
      return () => undefined;
    },
  };
  return { sink, writes, fail: (u: UnitName | undefined) => (failing = u), renew: () => renewed?.() };
}

async function setUp(agentStates?: ReadonlyMap<UnitName, 'loaded' | 'launched'>) {
  const units = new InMemoryUnitManager();
  await units.load(a, file);
  await units.load(b, file);
  await units.reloadUnitFiles();
  const rec = recordingSink();
  const publisher = new UnitStatePublisher({
    machineId: machine.id, units, sink: rec.sink, clock: systemClock, log: silentLogger, intervalMs: 60_000, ...(agentStates === undefined ? {} : { agentStates }),
  });
  return { units, publisher, ...rec };
}

describe('UnitStatePublisher', () => {
  it('writes every state once, then only what changed, and deletes states of units that left', async () => {
    const { units, publisher, writes } = await setUp();
    await publisher.pass();
    expect(writes.sort()).toEqual(['put a.service inactive/dead', 'put b.service inactive/dead']);
    writes.length = 0;
    await publisher.pass();
    expect(writes).toEqual([]);
    await units.start(a);
    await units.unload(b);
    await units.reloadUnitFiles();
    await publisher.pass();
    expect(writes.sort()).toEqual(['delete b.service', 'put a.service active/running']);
  });

  it('writes the others when one write fails, fails the pass, and retries only that one next time', async () => {
    const { publisher, writes, fail } = await setUp();
    fail(b);
    await expect(publisher.pass()).rejects.toThrow('cannot write b.service');
    expect(writes).toEqual(['put a.service inactive/dead']);
    fail(undefined);
    writes.length = 0;
    await publisher.pass();
    expect(writes).toEqual(['put b.service inactive/dead']);
  });

  it('writes everything again after the presence lease was renewed (a new lease carries nothing)', async () => {
    const { publisher, writes, renew } = await setUp();
    const stop = new AbortController();
    await publisher.pass();
    writes.length = 0;
    // The renewal listener is registered by run(); run it just long enough to register and wake.
    const running = publisher.run(stop.signal, new Wakeup());
    renew();
    await expect.poll(() => writes.length, { timeout: 5_000 }).toBe(2);
    stop.abort();
    await running;
    expect(writes.sort()).toEqual(['put a.service inactive/dead', 'put b.service inactive/dead']);
  });

  it("reports what the agent has brought each unit to, and writes again when only that changes", async () => {
    const reached = new Map<UnitName, 'loaded' | 'launched'>([[a, 'loaded']]);
    const { units, publisher, writes } = await setUp(reached);
    await units.start(a);
    await publisher.pass();
    expect(writes.sort()).toEqual(['put a.service active/running', 'put b.service inactive/dead']);
    writes.length = 0;
    reached.set(a, 'launched');
    await publisher.pass();
    expect(writes).toEqual(['put a.service active/running agent:launched']);
  });

  it("reports the agent's failures, also of a unit whose file is not loaded, and deletes the report once the failure is gone", async () => {
    const units = new InMemoryUnitManager();
    await units.load(a, file);
    const rec = recordingSink();
    const failures = new Map([[a, { hash: hashUnitFile(file), message: 'start refused' }], [b, { hash: 'b'.repeat(40), message: 'load refused' }]]);
    const publisher = new UnitStatePublisher({ machineId: machine.id, units, sink: rec.sink, clock: systemClock, log: silentLogger, intervalMs: 60_000, agentFailures: failures });
    const written: UnitState[] = [];
    const publish = rec.sink.writeStates;
    rec.sink.writeStates = async (w) => {
      written.push(...w.publish);
      return publish(w);
    };
    await publisher.pass();
    expect(written.map((s) => `${s.name} ${s.loadState} ${s.failure ?? '-'}`).sort()).toEqual(['a.service loaded start refused', 'b.service not-found load refused']);
    failures.delete(b);
    rec.writes.length = 0;
    await publisher.pass();
    expect(rec.writes).toEqual(['delete b.service']);
  });

  it('publishes nothing before the agent has finished its first pass', async () => {
    const { publisher, writes } = await setUp();
    const stop = new AbortController();
    let agentPassed!: () => void;
    const running = publisher.run(stop.signal, new Wakeup(), new Promise<void>((resolve) => (agentPassed = resolve)));
    // Let the publisher's own start-up run as far as it can without the agent.
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(writes).toEqual([]);
    agentPassed();
    await expect.poll(() => writes.length, { timeout: 5_000 }).toBe(2);
    stop.abort();
    await running;
  });
});
