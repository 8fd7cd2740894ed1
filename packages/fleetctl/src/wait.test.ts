import type { WireUnitState } from '@fleet/engine/api';
import { hashUnitFile } from '@fleet/engine/model';
import { describe, expect, it } from 'vitest';
import type { FleetApiClient, ApiUnit } from './api-client.js';
import { MachineDirectory } from './machine-directory.js';
import { CapturedOutput, SteppingClock } from './testing/fake-fleet-api.js';
import { waitForUnits } from './wait.js';
import type { WaitGoal } from './wait.js';

const m1 = 'c31e44e1f25c4b2c8e5a6e8b3f1a2b3c';

const v1 = [{ section: 'Service', name: 'ExecStart', value: '/bin/app v1' }];
const v2 = [{ section: 'Service', name: 'ExecStart', value: '/bin/app v2' }];

/**
 * One poll's view of the world: `script[n]` is what the n-th poll (0-based) of a unit sees. The
 * unit's options default to none and the state's hash to the hash of the unit's options.
 */
type Frame = { unit?: Partial<ApiUnit> | 'error'; state?: Partial<WireUnitState> };

function scriptedClient(scripts: Record<string, Frame[]>): FleetApiClient {
  const polls = new Map<string, number>();
  const frame = (name: string): Frame => {
    const list = scripts[name] ?? [];
    return list[Math.min(polls.get(name) ?? 0, list.length - 1)] ?? {};
  };
  const unsupported = async (): Promise<never> => {
    throw new Error('not used');
  };
  return {
    getUnit: async (name) => {
      const f = frame(name);
      polls.set(name, (polls.get(name) ?? 0) + 1);
      if (f.unit === 'error') throw new Error('cannot reach fleet API at unix:///x: connect ECONNREFUSED');
      return f.unit === undefined ? undefined : { name, options: [], desiredState: 'launched', currentState: 'inactive', ...f.unit };
    },
    listUnitStates: async ({ unitName = '' } = {}) => {
      const list = scripts[unitName] ?? [];
      const f = list[Math.min((polls.get(unitName) ?? 1) - 1, list.length - 1)];
      if (f?.state === undefined) return [];
      const options = f.unit === 'error' ? [] : (f.unit?.options ?? []);
      const hash = hashUnitFile(options);
      return [{ name: unitName, hash, machineID: m1, systemdLoadState: 'loaded', systemdActiveState: 'active', systemdSubState: 'running', ...f.state }];
    },
    listMachines: async () => [{ id: m1, primaryIP: '10.10.1.1', metadata: {} }],
    listUnits: unsupported,
    createUnit: unsupported,
    setDesiredState: unsupported,
    destroyUnit: unsupported,
    unitStatus: unsupported,
    unitJournal: () => {
      throw new Error('not used');
    },
  };
}

async function wait(scripts: Record<string, Frame[]>, goal: WaitGoal, attempts = 0, replaced: readonly string[] = []) {
  const client = scriptedClient(scripts);
  const output = new CapturedOutput();
  const clock = new SteppingClock();
  const failures = await waitForUnits(client, new MachineDirectory(client), Object.keys(scripts), goal, output, {
    attempts,
    clock,
    replaced: new Set(replaced),
  });
  return { failures, stdout: output.stdout, stderr: output.stderr, sleeps: clock.sleeps.length };
}

const launched: Frame = { unit: { currentState: 'launched', machineID: m1 }, state: {} };
const pending: Frame = { unit: {} };

describe('waitForUnits', () => {
  it('reports each unit as it arrives, polling every 250 ms', async () => {
    const r = await wait({ 'slow.service': [pending, pending, pending, launched], 'fast.service': [launched] }, 'start');
    expect(r.stdout).toBe('Unit fast.service launched on c31e44e1.../10.10.1.1\nUnit slow.service launched on c31e44e1.../10.10.1.1\n');
    expect(r.failures).toEqual([]);
    expect(r.sleeps).toBe(3);
  });

  it('waits for systemd to report active, not just for the fleet state', async () => {
    const activating: Frame = { unit: { currentState: 'launched', machineID: m1 }, state: { systemdActiveState: 'activating', systemdSubState: 'start' } };
    const r = await wait({ 'hello.service': [activating, activating, launched] }, 'start');
    expect(r.sleeps).toBe(2);
    expect(r.stdout).toBe('Unit hello.service launched on c31e44e1.../10.10.1.1\n');
  });

  it('prints a progress line per pending unit every 2 s', async () => {
    const r = await wait({ 'hello.service': [...Array<Frame>(17).fill(pending), launched] }, 'start');
    expect(r.stderr).toBe('Waiting for hello.service: not scheduled (state inactive)\n'.repeat(2));
  });

  it('shows the reason the API gives in the progress line and at the end of the timeout message', async () => {
    const reason = '3 machines: 2 rejected by MachineMetadata rack=r3, 1 by Conflicts=db*';
    const r = await wait({ 'hello.service': [{ unit: { reason } }] }, 'start', 10);
    expect(r.stderr).toBe(`Waiting for hello.service: not scheduled: ${reason}\n`);
    expect(r.failures.map((f) => f.message)).toEqual([
      `timed out waiting for unit hello.service to report state launched after 10 attempts (not scheduled): ${reason}`,
    ]);
  });

  it('keeps the reason of a scheduled unit last', async () => {
    const frame: Frame = { unit: { currentState: 'loaded', machineID: m1, reason: 'replaced by db.service' }, state: { systemdActiveState: 'inactive', systemdSubState: 'dead' } };
    const r = await wait({ 'hello.service': [frame] }, 'start', 1);
    expect(r.failures[0]?.message).toBe(
      'timed out waiting for unit hello.service to report state launched after 1 attempt ' +
        '(scheduled on c31e44e1.../10.10.1.1, inactive/dead): replaced by db.service',
    );
  });

  it('keeps polling through API errors and names the last one on timeout', async () => {
    const r = await wait({ 'hello.service': [{ unit: 'error' }] }, 'load', 2);
    expect(r.failures).toEqual([
      {
        name: 'hello.service',
        kind: 'timed-out',
        message: 'timed out waiting for unit hello.service to report state loaded after 2 attempts (cannot reach fleet API at unix:///x: connect ECONNREFUSED)',
      },
    ]);
  });

  it('stop waits until systemd no longer runs the unit', async () => {
    const stopping: Frame = { unit: { currentState: 'loaded', machineID: m1 }, state: { systemdActiveState: 'deactivating', systemdSubState: 'stop-sigterm' } };
    const stopped: Frame = { unit: { currentState: 'loaded', machineID: m1 }, state: { systemdActiveState: 'inactive', systemdSubState: 'dead' } };
    const r = await wait({ 'hello.service': [stopping, stopped] }, 'stop');
    expect(r.stdout).toBe('Unit hello.service loaded on c31e44e1.../10.10.1.1\n');
    expect(r.sleeps).toBe(1);
  });

  it('fails a unit that is destroyed while waiting', async () => {
    const r = await wait({ 'hello.service': [pending, {}] }, 'start');
    expect(r.failures).toEqual([{ name: 'hello.service', kind: 'failed', message: 'unit hello.service was destroyed while waiting for it to report state launched' }]);
  });

  it.each<[WaitGoal, Frame, string]>([
    ['unload', { unit: { currentState: 'inactive' } }, 'Unit hello.service inactive\n'],
    ['load', { unit: { currentState: 'loaded', machineID: m1 } }, 'Unit hello.service loaded on c31e44e1.../10.10.1.1\n'],
    ['destroy', {}, 'Destroyed hello.service\n'],
  ])('%s prints fleet\'s line', async (goal, frame, line) => {
    expect((await wait({ 'hello.service': [frame] }, goal)).stdout).toBe(line);
  });

  it('destroy times out while the unit is still registered', async () => {
    const r = await wait({ 'hello.service': [pending] }, 'destroy', 1);
    expect(r.failures[0]?.message).toBe('timed out waiting for unit hello.service to report state destroyed after 1 attempt (still registered)');
  });
});

describe('waitForUnits after --replace: the new unit file, not the previous one', () => {
  const onV2 = (state: Partial<WireUnitState>): Frame => ({ unit: { currentState: 'launched', machineID: m1, options: v2 }, state });
  // The registry holds v2 already; the machine still runs v1 for a while.
  const v1Running = onV2({ hash: hashUnitFile(v1) });
  const v2Running = onV2({});

  it('start does not count the previous version, still active, as started', async () => {
    const r = await wait({ 'app.service': [v1Running, v1Running, v1Running, v2Running] }, 'start');
    expect(r.failures).toEqual([]);
    expect(r.sleeps).toBe(3);
    expect(r.stdout).toBe('Unit app.service launched on c31e44e1.../10.10.1.1\n');
  });

  it('start does not count the previous version failing as a failure of the new one', async () => {
    const v1Failed = onV2({ hash: hashUnitFile(v1), systemdActiveState: 'failed', systemdSubState: 'failed' });
    const r = await wait({ 'app.service': [v1Failed, v2Running] }, 'start');
    expect(r.failures).toEqual([]);
    expect(r.sleeps).toBe(1);
  });

  it('start fails when the new version fails', async () => {
    const v2Failed = onV2({ systemdActiveState: 'failed', systemdSubState: 'failed' });
    const r = await wait({ 'app.service': [v1Running, v2Failed] }, 'start');
    expect(r.failures).toEqual([{ name: 'app.service', kind: 'failed', message: 'unit app.service failed to start on c31e44e1.../10.10.1.1 (failed/failed)' }]);
  });

  it('says that the previous unit file still runs, in progress lines and on timeout', async () => {
    const r = await wait({ 'app.service': [v1Running] }, 'start', 10);
    const where = `scheduled on c31e44e1.../10.10.1.1, active/running with the previous unit file ${hashUnitFile(v1).slice(0, 7)} (waiting for ${hashUnitFile(v2).slice(0, 7)})`;
    expect(r.stderr).toBe(`Waiting for app.service: ${where}\n`);
    expect(r.failures[0]?.message).toBe(`timed out waiting for unit app.service to report state launched after 10 attempts (${where})`);
  });

  it('load of a replaced unit waits until its machine reports the new unit file', async () => {
    const loaded = (hash: string | undefined): Frame => ({
      unit: { currentState: 'loaded', machineID: m1, options: v2 },
      ...(hash === undefined ? {} : { state: { hash, systemdActiveState: 'inactive', systemdSubState: 'dead' } }),
    });
    const r = await wait({ 'app.service': [loaded(hashUnitFile(v1)), loaded(undefined), loaded(hashUnitFile(v2))] }, 'load', 0, ['app.service']);
    expect(r.sleeps).toBe(2);
    expect(r.stdout).toBe('Unit app.service loaded on c31e44e1.../10.10.1.1\n');
  });

  it('load of a unit that was not replaced only waits for the fleet state, as fleet does', async () => {
    const r = await wait({ 'app.service': [{ unit: { currentState: 'loaded', machineID: m1, options: v2 }, state: { hash: hashUnitFile(v1) } }] }, 'load');
    expect(r.sleeps).toBe(0);
    expect(r.failures).toEqual([]);
  });
});
