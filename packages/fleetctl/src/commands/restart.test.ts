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

/** systemd's ActiveState of `unit` in the test cluster at the moment each PUT arrives. */
function activeStateAtPuts(unit: string): string[] {
  const seen: string[] = [];
  h.api.onRequest = (req) => {
    if (req.method === 'PUT') seen.push(h.api.states.find((s) => s.name === unit)?.systemdActiveState ?? 'none');
  };
  return seen;
}

const restarted = (unit: string): RegExp => new RegExp(`^\\d{4}/\\d\\d/\\d\\d \\d\\d:\\d\\d:\\d\\d INFO restart\\.go:100: Unit\\(${unit.replace('.', '\\.')}\\) was restarted\\.\\n$`);

describe('restart', () => {
  it("stops a launched unit, waits until systemd stopped it, starts it again: fleet's lines", async () => {
    h.api.addUnit('hello.service', optionsOf(hello), { desiredState: 'launched' });
    h.api.converge();
    const atPuts = activeStateAtPuts('hello.service');
    const r = await h.fleetctl(['restart', 'hello']);
    // fleet says `launched` after its stop too (it does not really wait for it; this one does).
    expect(r).toMatchObject({ code: 0, stdout: `Unit hello.service launched on ${legend}\n`.repeat(2) });
    expect(r.stderr).toMatch(restarted('hello.service'));
    expect(h.api.writes()).toEqual(['PUT /fleet/v1/units/hello.service loaded', 'PUT /fleet/v1/units/hello.service launched']);
    // `launched` is only set once systemd no longer ran the unit.
    expect(atPuts).toEqual(['active', 'inactive']);
  });

  it('restarts units one after the other, in argument order', async () => {
    for (const name of ['b.service', 'a.service']) h.api.addUnit(name, optionsOf(hello), { desiredState: 'launched' });
    const r = await h.fleetctl(['restart', 'b', 'a.service']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`Unit b.service launched on ${legend}\n`.repeat(2) + `Unit a.service launched on ${legend}\n`.repeat(2));
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
    expect(r).toMatchObject({ code: 0, stdout: `Unit hello.service launched on ${legend}\n`, stderr: '' });
    expect(h.api.writes()).toEqual(['PUT /fleet/v1/units/hello.service launched']);
  });

  it('says it cannot restart an inactive unit, and goes on with the others', async () => {
    h.api.addUnit('idle.service', optionsOf(hello));
    h.api.addUnit('hello.service', optionsOf(hello), { desiredState: 'loaded' });
    const r = await h.fleetctl(['restart', 'idle', 'hello']);
    expect(r).toMatchObject({ code: 0, stdout: `Unit hello.service launched on ${legend}\n`, stderr: 'Unable to restart unit idle.service in state inactive\n' });
    expect(h.api.writes()).toEqual(['PUT /fleet/v1/units/hello.service launched']);
  });

  it('fails for a unit that is neither registered nor a local file, as fleet does', async () => {
    h.api.addUnit('hello.service', optionsOf(hello), { desiredState: 'loaded' });
    const r = await h.fleetctl(['restart', 'hello', 'nope']);
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: 'Error creating units: unable to find Unit(nope.service) in Registry or on filesystem\n' });
    expect(h.api.writes()).toEqual([]);
  });

  it('with --no-block (ours) still waits for the stop, then only triggers', async () => {
    h.api.addUnit('hello.service', optionsOf(hello), { desiredState: 'launched' });
    h.api.converge();
    h.api.addUnit('stopped.service', optionsOf(hello), { desiredState: 'loaded' });
    const atPuts = activeStateAtPuts('hello.service');
    const r = await h.fleetctl(['restart', '--no-block', 'hello', 'stopped']);
    expect(r.stdout).toBe('Triggered unit hello.service restart\n'.repeat(2) + 'Triggered unit stopped.service restart\n');
    expect(h.api.writes()).toEqual([
      'PUT /fleet/v1/units/hello.service loaded',
      'PUT /fleet/v1/units/hello.service launched',
      'PUT /fleet/v1/units/stopped.service launched',
    ]);
    expect(atPuts.slice(0, 2)).toEqual(['active', 'inactive']);
  });

  it('restarts global units without waiting and without a word, as fleet (over SSH) does', async () => {
    h.api.autoConverge = false;
    h.api.addUnit('global.service', optionsOf(globalUnit), { desiredState: 'launched', currentState: '' });
    const r = await h.fleetctl(['restart', '--block-attempts', '1', 'global']);
    expect(r).toEqual({ code: 0, stdout: '', stderr: '', sleeps: [] });
    expect(h.api.writes()).toEqual(['PUT /fleet/v1/units/global.service loaded', 'PUT /fleet/v1/units/global.service launched']);
  });

  it('gives up after --block-attempts while stopping, and does not start the unit again', async () => {
    h.api.addUnit('hello.service', optionsOf(hello), { desiredState: 'launched' });
    h.api.converge();
    h.api.autoConverge = false;
    const r = await h.fleetctl(['restart', '--block-attempts', '2', 'hello']);
    const message = 'timed out waiting for unit hello.service to report state loaded';
    expect(r).toMatchObject({
      code: 1,
      stdout: '',
      stderr: `Error waiting for units: ${message}\nError waiting for unit states, exit status: ${message}\n`,
      sleeps: [500],
    });
    expect(h.api.writes()).toEqual(['PUT /fleet/v1/units/hello.service loaded']);
  });
});
