import type { WireUnitState } from '@fleet/core/wire';
import { hashUnitFile } from '@fleet/core/model';
import { describe, expect, it } from 'vitest';
import type { FleetApiClient, ApiUnit } from './api-client.js';
import { MachineDirectory } from './machine-directory.js';
import { CapturedOutput, SteppingClock } from './testing/captured-output.js';
import { waitForActive, waitForUnitStates } from './wait.js';
import type { JobState, WaitOptions } from './wait.js';

const m1 = 'c31e44e1f25c4b2c8e5a6e8b3f1a2b3c';
const legend = 'c31e44e1.../10.10.1.1';

const v1 = [{ section: 'Service', name: 'ExecStart', value: '/bin/app v1' }];
const v2 = [{ section: 'Service', name: 'ExecStart', value: '/bin/app v2' }];

/**
 * One poll's view of the world: `script[n]` is what the n-th poll (0-based) of a unit sees. The
 * unit's options default to none and the state's hash to the hash of the unit's options.
 */
type Frame = { unit?: Partial<ApiUnit> | 'error'; state?: Partial<WireUnitState> };

function scriptedClient(scripts: Record<string, Frame[]>, calls: string[] = []): FleetApiClient {
  const polls = new Map<string, number>();
  const frame = (name: string): Frame => {
    const list = scripts[name] ?? [];
    return list[Math.min(polls.get(name) ?? 0, list.length - 1)] ?? {};
  };
  const unsupported = async (): Promise<never> => {
    throw new Error('not used');
  };
  // One poll of one unit: its next frame.
  const poll = (name: string): ApiUnit | 'error' | undefined => {
    const f = frame(name);
    polls.set(name, (polls.get(name) ?? 0) + 1);
    if (f.unit === 'error') return 'error';
    return f.unit === undefined ? undefined : { name, options: [], desiredState: 'launched', currentState: 'inactive', ...f.unit };
  };
  const refused = (): Error => new Error('cannot reach fleet API at unix:///x: connect ECONNREFUSED');
  const stateOf = (unitName: string): WireUnitState[] => {
    const list = scripts[unitName] ?? [];
    const f = list[Math.min((polls.get(unitName) ?? 1) - 1, list.length - 1)];
    if (f?.state === undefined) return [];
    const options = f.unit === 'error' ? [] : (f.unit?.options ?? []);
    const hash = hashUnitFile(options);
    return [{ name: unitName, hash, machineID: m1, systemdLoadState: 'loaded', systemdActiveState: 'active', systemdSubState: 'running', ...f.state }];
  };
  return {
    getUnit: async (name) => {
      calls.push(`getUnit ${name}`);
      const unit = poll(name);
      if (unit === 'error') throw refused();
      return unit;
    },
    // Every scripted unit is polled: the listing is what each of them looks like now.
    listUnits: async () => {
      calls.push('listUnits');
      const units = Object.keys(scripts).map(poll);
      if (units.includes('error')) throw refused();
      return units.filter((u): u is ApiUnit => u !== undefined && u !== 'error');
    },
    listUnitStates: async ({ unitName } = {}) => {
      calls.push(`listUnitStates ${unitName ?? '*'}`);
      return (unitName === undefined ? Object.keys(scripts) : [unitName]).flatMap(stateOf);
    },
    listMachines: async () => [{ id: m1, primaryIP: '10.10.1.1', metadata: {} }],
    createUnit: unsupported,
    createUnits: unsupported,
    setDesiredState: unsupported,
    destroyUnit: unsupported,
    unitStatus: unsupported,
    unitJournal: () => {
      throw new Error('not used');
    },
  };
}

async function wait(scripts: Record<string, Frame[]>, state: JobState, attempts = 0, options: WaitOptions & { interactive?: boolean } = {}) {
  const calls: string[] = [];
  const client = scriptedClient(scripts, calls);
  const output = new CapturedOutput();
  const clock = new SteppingClock();
  const ctx = { client, machines: new MachineDirectory(client), output, clock, interactive: options.interactive === true };
  const failure = await waitForUnitStates(ctx, Object.keys(scripts), 'start', state, attempts, options);
  return { failure, stdout: output.stdout, stderr: output.stderr, sleeps: clock.sleeps, calls };
}

const launched: Frame = { unit: { currentState: 'launched', machineID: m1 }, state: {} };
const pending: Frame = { unit: {} };
const reason = '3 machines: 2 rejected by MachineMetadata rack=r3, 1 by Conflicts=db*';

describe('waitForUnitStates', () => {
  it("prints fleet's line for each unit as it arrives, polling every 500 ms", async () => {
    const r = await wait({ 'slow.service': [pending, pending, pending, launched], 'fast.service': [launched] }, 'launched');
    expect(r).toMatchObject({ failure: undefined, stderr: '', sleeps: [500, 500, 500] });
    expect(r.stdout).toBe(`Unit fast.service launched on ${legend}\nUnit slow.service launched on ${legend}\n`);
  });

  it('asks once per poll for all the units it waits on, and for their states only when needed', async () => {
    const r = await wait({ 'a.service': [pending, launched], 'b.service': [launched], 'c.service': [pending, launched] }, 'launched');
    expect(r.calls).toEqual(['listUnits', 'listUnits']);
    expect(r.stdout).toBe(`Unit b.service launched on ${legend}\nUnit a.service launched on ${legend}\nUnit c.service launched on ${legend}\n`);
    const replaced = await wait({ 'a.service': [launched], 'b.service': [launched] }, 'launched', 0, { replaced: new Set(['a.service', 'b.service']) });
    expect(replaced.calls).toEqual(['listUnits', 'listUnitStates *']);
    const one = await wait({ 'a.service': [launched] }, 'launched', 0, { replaced: new Set(['a.service']) });
    expect(one.calls).toEqual(['getUnit a.service', 'listUnitStates a.service']);
  });

  it("only waits for fleet's state, as fleet does (systemd may still be starting the unit)", async () => {
    const activating: Frame = { unit: { currentState: 'launched', machineID: m1 }, state: { systemdActiveState: 'activating', systemdSubState: 'start' } };
    const r = await wait({ 'hello.service': [activating] }, 'launched');
    expect(r).toMatchObject({ failure: undefined, stdout: `Unit hello.service launched on ${legend}\n`, sleeps: [] });
  });

  it('waits for the desired state of a global unit, whose current state is empty, as fleet does', async () => {
    const global = [{ section: 'X-Fleet', name: 'Global', value: 'true' }];
    const r = await wait({ 'g.service': [{ unit: { options: global, desiredState: 'inactive', currentState: '' } }] }, 'inactive');
    expect(r.stdout).toBe('Unit g.service \n');
  });

  it('leaves the machine out of the line when it is not in the machine list', async () => {
    const r = await wait({ 'hello.service': [{ unit: { currentState: 'loaded', machineID: 'feedfeedfeedfeedfeedfeedfeedfeed' } }] }, 'loaded');
    expect(r.stdout).toBe('Unit hello.service loaded\n');
  });

  it('gives up after N polls with the first unit still pending, in fleet\'s words', async () => {
    const r = await wait({ 'a.service': [pending], 'b.service': [pending] }, 'launched', 3);
    expect(r.failure?.message).toBe('timed out waiting for unit a.service to report state launched');
    expect(r.sleeps).toEqual([500, 500]);
    expect(r.stdout).toBe('');
  });

  it("keeps where the unit stands and the API's reason for a terminal", async () => {
    const r = await wait({ 'hello.service': [{ unit: { reason } }] }, 'launched', 1);
    expect(r.failure?.detail).toBe(`hello.service is not scheduled (state inactive): ${reason}`);
    const scheduled: Frame = { unit: { currentState: 'loaded', machineID: m1 }, state: { systemdActiveState: 'inactive', systemdSubState: 'dead' } };
    expect((await wait({ 'hello.service': [scheduled] }, 'launched', 1, { untilStopped: true })).failure?.detail).toBe(
      `hello.service is scheduled on ${legend}, inactive/dead`,
    );
  });

  it('triggers without waiting for --no-block (attempts -1)', async () => {
    const r = await wait({ 'hello.service': [pending] }, 'launched', -1);
    expect(r).toMatchObject({ failure: undefined, stdout: 'Triggered unit hello.service start\n', sleeps: [] });
  });

  it('prints progress lines every 2 s, on a terminal only', async () => {
    const frames = [...Array<Frame>(9).fill({ unit: { reason } }), launched];
    expect((await wait({ 'hello.service': frames }, 'launched', 0, { interactive: true })).stderr).toBe(
      `Waiting for hello.service: hello.service is not scheduled (state inactive): ${reason}\n`.repeat(2),
    );
    expect((await wait({ 'hello.service': frames }, 'launched')).stderr).toBe('');
  });

  it('keeps polling through API errors', async () => {
    const r = await wait({ 'hello.service': [{ unit: 'error' }, { unit: 'error' }, launched] }, 'launched');
    expect(r).toMatchObject({ failure: undefined, stdout: `Unit hello.service launched on ${legend}\n`, sleeps: [500, 500] });
  });

  it('with untilStopped, waits until systemd no longer runs the unit', async () => {
    const stopping: Frame = { unit: { currentState: 'loaded', machineID: m1 }, state: { systemdActiveState: 'deactivating', systemdSubState: 'stop-sigterm' } };
    const stopped: Frame = { unit: { currentState: 'loaded', machineID: m1 }, state: { systemdActiveState: 'inactive', systemdSubState: 'dead' } };
    const r = await wait({ 'hello.service': [stopping, stopped] }, 'loaded', 0, { untilStopped: true });
    expect(r).toMatchObject({ stdout: `Unit hello.service loaded on ${legend}\n`, sleeps: [500] });
  });

  it('reports another state word with reportAs, or nothing with silent', async () => {
    const loaded: Frame = { unit: { currentState: 'loaded', machineID: m1 } };
    expect((await wait({ 'hello.service': [loaded] }, 'loaded', 0, { reportAs: 'launched' })).stdout).toBe(`Unit hello.service launched on ${legend}\n`);
    expect((await wait({ 'hello.service': [loaded] }, 'loaded', 0, { silent: true })).stdout).toBe('');
  });

  it('waits for a replaced unit until its machine reports the new unit file', async () => {
    const loaded = (hash: string | undefined): Frame => ({
      unit: { currentState: 'loaded', machineID: m1, options: v2 },
      ...(hash === undefined ? {} : { state: { hash, systemdActiveState: 'inactive', systemdSubState: 'dead' } }),
    });
    const r = await wait({ 'app.service': [loaded(hashUnitFile(v1)), loaded(undefined), loaded(hashUnitFile(v2))] }, 'loaded', 0, { replaced: new Set(['app.service']) });
    expect(r).toMatchObject({ stdout: `Unit app.service loaded on ${legend}\n`, sleeps: [500, 500] });
  });
});

/** A client whose n-th state listing (0-based, the last one repeating) is `polls[n]`. */
function statesClient(polls: readonly (readonly Partial<WireUnitState>[])[]): FleetApiClient {
  let n = 0;
  const client = scriptedClient({});
  return {
    ...client,
    listUnitStates: async () => {
      const list = polls[Math.min(n++, polls.length - 1)] ?? [];
      return list.map((s) => ({ name: 'app.service', hash: hashUnitFile(v2), machineID: m1, systemdLoadState: 'loaded', systemdActiveState: 'active', systemdSubState: 'running', ...s }));
    },
  };
}

async function active(polls: readonly (readonly Partial<WireUnitState>[])[], attempts = 0) {
  const client = statesClient(polls);
  const output = new CapturedOutput();
  const clock = new SteppingClock();
  const ctx = { client, machines: new MachineDirectory(client), output, clock, interactive: false };
  const unit = { name: 'app.service', options: v2, desiredState: 'launched', currentState: 'launched', machineID: m1 };
  const failure = await waitForActive(ctx, [unit], attempts);
  return { failure, stdout: output.stdout, sleeps: clock.sleeps };
}

describe('waitForActive', () => {
  const failed = { systemdActiveState: 'failed', systemdSubState: 'failed' };
  const activating = { systemdActiveState: 'activating', systemdSubState: 'start' };

  it('is done once systemd reports the unit active on its machine', async () => {
    expect(await active([[activating], [{}]])).toMatchObject({ failure: undefined, sleeps: [250] });
  });

  it("fails a unit that is not active within 2 s, in fleet's words", async () => {
    const r = await active([[failed]]);
    expect(r.failure).toEqual({
      message: 'Failed to find an active unit app.service within 2s, err: Failed to fetch states within 2s',
      detail: 'app.service: systemd reports failed/failed',
    });
    expect(r.sleeps).toEqual(Array<number>(8).fill(250));
  });

  it('gives a unit that is activating, or still runs the previous file, 2 s more each time', async () => {
    const r = await active([...Array<Partial<WireUnitState>[]>(12).fill([activating]), [{ hash: hashUnitFile(v1) }], [{}]]);
    expect(r.failure).toBeUndefined();
    expect(r.sleeps).toHaveLength(13);
  });

  it('says "Triggered unit X start" again for --no-block, as fleet does', async () => {
    expect(await active([[failed]], -1)).toEqual({ failure: undefined, stdout: 'Triggered unit app.service start\n', sleeps: [] });
  });
});
