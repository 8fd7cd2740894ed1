import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { optionsOf, startHarness } from '../testing/harness.js';
import type { Harness } from '../testing/harness.js';

const hello = '[Unit]\nDescription=Hello\n\n[Service]\nExecStart=/bin/sleep infinity\n';
const globalUnit = '[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nGlobal=true\n';
const legend = 'c31e44e1.../10.10.1.1';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

/** systemd's ActiveState of `unit` in the fake at the moment each PUT arrives. */
function activeStateAtPuts(unit: string): string[] {
  const seen: string[] = [];
  h.api.onRequest = (req) => {
    if (req.method === 'PUT') seen.push(h.api.states.find((s) => s.name === unit)?.systemdActiveState ?? 'none');
  };
  return seen;
}

describe('restart', () => {
  it('stops a launched unit, waits until systemd stopped it, then starts it and waits until active', async () => {
    h.api.addUnit('hello.service', optionsOf(hello), { desiredState: 'launched' });
    h.api.converge();
    const atPuts = activeStateAtPuts('hello.service');
    const r = await h.fleetctl(['restart', 'hello']);
    expect(r).toMatchObject({
      code: 0,
      stdout: `Unit hello.service loaded on ${legend}\nUnit hello.service launched on ${legend}\n`,
      stderr: '',
    });
    expect(h.api.writes()).toEqual(['PUT /fleet/v1/units/hello.service loaded', 'PUT /fleet/v1/units/hello.service launched']);
    // `launched` is only set once systemd no longer ran the unit.
    expect(atPuts).toEqual(['active', 'inactive']);
  });

  it('restarts units one after the other, in argument order', async () => {
    for (const name of ['b.service', 'a.service']) h.api.addUnit(name, optionsOf(hello), { desiredState: 'launched' });
    const r = await h.fleetctl(['restart', 'b', 'a.service']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `Unit b.service loaded on ${legend}\nUnit b.service launched on ${legend}\nUnit a.service loaded on ${legend}\nUnit a.service launched on ${legend}\n`,
    );
    expect(h.api.writes()).toEqual([
      'PUT /fleet/v1/units/b.service loaded',
      'PUT /fleet/v1/units/b.service launched',
      'PUT /fleet/v1/units/a.service loaded',
      'PUT /fleet/v1/units/a.service launched',
    ]);
    // One machine list for the legends of all four waits.
    expect(h.api.requests.filter((q) => q.url === '/fleet/v1/machines')).toHaveLength(1);
  });

  it('starts a stopped (loaded) unit, as fleet does', async () => {
    h.api.addUnit('hello.service', optionsOf(hello), { desiredState: 'loaded' });
    const r = await h.fleetctl(['restart', 'hello.service']);
    expect(r).toMatchObject({ code: 0, stdout: `Unit hello.service launched on ${legend}\n` });
    expect(h.api.writes()).toEqual(['PUT /fleet/v1/units/hello.service launched']);
  });

  it('refuses an inactive unit before changing anything', async () => {
    h.api.addUnit('hello.service', optionsOf(hello), { desiredState: 'launched' });
    h.api.addUnit('idle.service', optionsOf(hello));
    const r = await h.fleetctl(['restart', 'hello', 'idle']);
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: 'Error: Unable to restart unit idle.service in state inactive (load or start it first)\n' });
    expect(h.api.writes()).toEqual([]);
  });

  it('skips units that do not exist', async () => {
    h.api.addUnit('hello.service', optionsOf(hello), { desiredState: 'launched' });
    const r = await h.fleetctl(['restart', 'nope', 'hello']);
    expect(r).toMatchObject({ code: 0, stdout: `Unit hello.service loaded on ${legend}\nUnit hello.service launched on ${legend}\n` });
  });

  it('with --no-block still waits for the stop (or the restart could be missed), then only triggers the start', async () => {
    h.api.addUnit('hello.service', optionsOf(hello), { desiredState: 'launched' });
    h.api.converge();
    h.api.addUnit('stopped.service', optionsOf(hello), { desiredState: 'loaded' });
    const atPuts = activeStateAtPuts('hello.service');
    const r = await h.fleetctl(['restart', '--no-block', 'hello', 'stopped']);
    expect(r).toMatchObject({
      code: 0,
      stdout: `Unit hello.service loaded on ${legend}\nTriggered unit hello.service restart\nTriggered unit stopped.service start\n`,
      stderr: '',
    });
    expect(h.api.writes()).toEqual([
      'PUT /fleet/v1/units/hello.service loaded',
      'PUT /fleet/v1/units/hello.service launched',
      'PUT /fleet/v1/units/stopped.service launched',
    ]);
    expect(atPuts.slice(0, 2)).toEqual(['active', 'inactive']);
  });

  it('never blocks on global units: loaded, then launched, without waiting', async () => {
    h.api.autoConverge = false;
    h.api.addUnit('global.service', optionsOf(globalUnit), { desiredState: 'launched' });
    const r = await h.fleetctl(['restart', '--block-attempts', '1', 'global']);
    expect(r).toEqual({ code: 0, stdout: 'Triggered global unit global.service restart\n', stderr: '', sleeps: [] });
    expect(h.api.writes()).toEqual(['PUT /fleet/v1/units/global.service loaded', 'PUT /fleet/v1/units/global.service launched']);
  });

  it('gives up after --block-attempts while stopping, and does not start the unit again', async () => {
    h.api.addUnit('hello.service', optionsOf(hello), { desiredState: 'launched' });
    h.api.converge();
    h.api.autoConverge = false;
    const r = await h.fleetctl(['restart', '--block-attempts', '2', 'hello']);
    expect(r).toMatchObject({
      code: 1,
      stdout: '',
      stderr: `Error: timed out waiting for unit hello.service to report state loaded after 2 attempts (scheduled on ${legend}, active/running)\n`,
      sleeps: [250],
    });
    expect(h.api.writes()).toEqual(['PUT /fleet/v1/units/hello.service loaded']);
  });

  it('stops at the first unit that fails to start', async () => {
    h.api.addUnit('bad.service', optionsOf(hello), { desiredState: 'launched' });
    h.api.addUnit('hello.service', optionsOf(hello), { desiredState: 'launched' });
    h.api.failing.add('bad.service');
    const r = await h.fleetctl(['restart', 'bad', 'hello']);
    expect(r).toMatchObject({
      code: 1,
      stdout: `Unit bad.service loaded on ${legend}\n`,
      stderr: `Error: unit bad.service failed to start on ${legend} (failed/failed)\n`,
    });
    expect(h.api.writes()).toEqual(['PUT /fleet/v1/units/bad.service loaded', 'PUT /fleet/v1/units/bad.service launched']);
  });
});
