import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { optionsOf, startHarness } from '../testing/harness.js';
import type { Harness } from '../testing/harness.js';

const hello = '[Unit]\nDescription=Hello\n\n[Service]\nExecStart=/bin/sh -c "while true; do echo Hello; sleep 1; done"\n';
const helloV2 = '[Unit]\nDescription=Hello v2\n\n[Service]\nExecStart=/bin/sleep infinity\n';
const globalUnit = '[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nGlobal=true\n';
const web = '[Service]\nExecStart=/bin/echo %i\n';
const reason = '3 machines: 2 rejected by MachineMetadata rack=r3, 1 by Conflicts=db*';

let h: Harness;
let path: (name: string) => string;
beforeEach(async () => {
  h = await startHarness();
  path = (name) => join(h.dir, name);
  await writeFile(path('hello.service'), hello);
});
afterEach(async () => {
  await h.close();
});

describe('submit', () => {
  it('creates a unit that does not exist with the desired state inactive', async () => {
    const r = await h.fleetctl(['submit', path('hello')]);
    expect(r).toMatchObject({ code: 0, stdout: 'Unit hello.service inactive\n', stderr: '' });
    expect(h.api.writes()).toEqual(['PUT /fleet/v1/units/hello.service inactive +options']);
    expect(h.api.units.get('hello.service')?.options).toEqual(optionsOf(hello));
  });

  it('does nothing when the registered unit has the same hash', async () => {
    h.api.addUnit('hello.service', optionsOf(hello), { desiredState: 'launched' });
    const r = await h.fleetctl(['submit', path('hello.service')]);
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(h.api.writes()).toEqual([]);
  });

  it('refuses a changed unit file without --replace and writes nothing', async () => {
    h.api.addUnit('hello.service', optionsOf(helloV2));
    const r = await h.fleetctl(['submit', path('hello.service')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `Error: unit hello.service in the registry differs from local unit file ${path('hello.service')}; add --replace to update it\n`,
    );
    expect(h.api.writes()).toEqual([]);
  });

  it('replaces the options with --replace and keeps the desired state', async () => {
    h.api.addUnit('hello.service', optionsOf(helloV2), { desiredState: 'launched' });
    const r = await h.fleetctl(['submit', '--replace', path('hello.service')]);
    expect(r).toMatchObject({ code: 0, stdout: 'Unit hello.service replaced\n' });
    expect(h.api.writes()).toEqual(['PUT /fleet/v1/units/hello.service launched +options']);
    expect(h.api.units.get('hello.service')?.options).toEqual(optionsOf(hello));
  });

  it('fails with the naming rule for an invalid name', async () => {
    const r = await h.fleetctl(['submit', 'bad$name.service']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Error: invalid unit name "bad$name.service": name may only contain letters, digits, ":", "_", ".", "@", "-" and "\\"\n');
  });

  it('fails when there is no such file or template', async () => {
    const r = await h.fleetctl(['submit', path('missing')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('unable to find unit missing.service');
  });
});

describe('start', () => {
  it('submits, sets launched and waits for launched + systemd active', async () => {
    const r = await h.fleetctl(['start', path('hello.service')]);
    expect(r).toMatchObject({
      code: 0,
      stdout: 'Unit hello.service inactive\nUnit hello.service launched on c31e44e1.../10.10.1.1\n',
      stderr: '',
    });
    expect(h.api.writes()).toEqual([
      'PUT /fleet/v1/units/hello.service inactive +options',
      'PUT /fleet/v1/units/hello.service launched',
    ]);
  });

  it('is idempotent: an already launched unit is only waited for', async () => {
    h.api.addUnit('hello.service', optionsOf(hello), { desiredState: 'launched' });
    const r = await h.fleetctl(['start', 'hello']);
    expect(r).toMatchObject({ code: 0, stdout: 'Unit hello.service launched on c31e44e1.../10.10.1.1\n' });
    expect(h.api.writes()).toEqual([]);
  });

  it('does not wait with --no-block', async () => {
    const r = await h.fleetctl(['start', '--no-block', path('hello.service')]);
    expect(r).toMatchObject({ code: 0, stdout: 'Unit hello.service inactive\nTriggered unit hello.service start\n' });
    expect(h.api.requests.filter((q) => q.url.startsWith('/fleet/v1/state'))).toEqual([]);
  });

  it('gives up after --block-attempts polls with the reason the API gives', async () => {
    h.api.autoConverge = false;
    h.api.addUnit('hello.service', optionsOf(hello), { reason: 'no machine matches MachineMetadata=region=mars' });
    const r = await h.fleetctl(['start', '--block-attempts', '3', 'hello.service']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'Error: timed out waiting for unit hello.service to report state launched after 3 attempts ' +
        '(not scheduled): no machine matches MachineMetadata=region=mars\n',
    );
    expect(r.sleeps).toEqual([250, 250]);
  });

  it('shows the reason in the progress line and ends the timeout error with it', async () => {
    h.api.autoConverge = false;
    h.api.addUnit('hello.service', optionsOf(hello), { desiredState: 'launched', reason });
    // 10 polls: the progress line is due after 8 sleeps of 250 ms (2 s).
    const r = await h.fleetctl(['start', '--block-attempts', '10', 'hello.service']);
    expect(r).toMatchObject({
      code: 1,
      stdout: '',
      stderr:
        `Waiting for hello.service: not scheduled: ${reason}\n` +
        `Error: timed out waiting for unit hello.service to report state launched after 10 attempts (not scheduled): ${reason}\n`,
    });
  });

  it('tolerates units without a reason while waiting', async () => {
    h.api.autoConverge = false;
    h.api.addUnit('hello.service', optionsOf(hello));
    const r = await h.fleetctl(['start', '--block-attempts', '1', 'hello.service']);
    expect(r.stderr).toBe(
      'Error: timed out waiting for unit hello.service to report state launched after 1 attempt (not scheduled (state inactive))\n',
    );
  });

  it('prints progress while the unit activates, then the launched line', async () => {
    h.api.autoConverge = false;
    let polls = 0;
    h.api.onRequest = (req) => {
      if (req.method !== 'GET' || req.url !== '/fleet/v1/units/hello.service') return;
      polls++;
      if (polls === 2) {
        h.api.converge();
        const state = h.api.states[0];
        if (state !== undefined) Object.assign(state, { systemdActiveState: 'activating', systemdSubState: 'start' });
      }
      if (polls === 12) h.api.converge();
    };
    const r = await h.fleetctl(['start', path('hello.service')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Unit hello.service inactive\nUnit hello.service launched on c31e44e1.../10.10.1.1\n');
    expect(r.stderr).toBe('Waiting for hello.service: scheduled on c31e44e1.../10.10.1.1, activating/start\n');
  });

  it('stops waiting and fails when systemd reports the unit failed', async () => {
    h.api.failing.add('hello.service');
    const r = await h.fleetctl(['start', path('hello.service')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('Unit hello.service inactive\n');
    expect(r.stderr).toBe('Error: unit hello.service failed to start on c31e44e1.../10.10.1.1 (failed/failed)\n');
  });

  it('never blocks on global units', async () => {
    await writeFile(path('global.service'), globalUnit);
    h.api.autoConverge = false;
    const r = await h.fleetctl(['start', path('global.service')]);
    expect(r).toMatchObject({ code: 0, stdout: 'Unit global.service inactive\nTriggered global unit global.service start\n' });
  });

  it('reads Global= as the engine does: a quoted "true" is global too, and never blocks', async () => {
    await writeFile(path('quoted.service'), globalUnit.replace('Global=true', 'Global="true"'));
    h.api.autoConverge = false;
    const r = await h.fleetctl(['start', '--block-attempts', '1', path('quoted.service')]);
    expect(r).toMatchObject({ code: 0, stdout: 'Unit quoted.service inactive\nTriggered global unit quoted.service start\n' });
  });

  it('never blocks on global units, even with --block-attempts and a reason', async () => {
    h.api.autoConverge = false;
    h.api.addUnit('global.service', optionsOf(globalUnit), { reason });
    const r = await h.fleetctl(['start', '--block-attempts', '1', 'global.service']);
    expect(r).toEqual({ code: 0, stdout: 'Triggered global unit global.service start\n', stderr: '', sleeps: [] });
    expect(h.api.requests.filter((q) => q.url.startsWith('/fleet/v1/state'))).toEqual([]);
  });

  it('creates an instance from a local template next to the argument', async () => {
    await writeFile(path('web@.service'), web);
    const r = await h.fleetctl(['start', path('web@1')]);
    expect(r).toMatchObject({ code: 0, stdout: 'Unit web@1.service inactive\nUnit web@1.service launched on c31e44e1.../10.10.1.1\n' });
    expect(h.api.units.get('web@1.service')?.options).toEqual(optionsOf(web));
  });

  it('creates an instance from the registered template first', async () => {
    await writeFile(path('web@.service'), web);
    h.api.addUnit('web@.service', optionsOf(helloV2));
    const r = await h.fleetctl(['start', '--no-block', path('web@2.service')]);
    expect(r.code).toBe(0);
    expect(h.api.units.get('web@2.service')?.options).toEqual(optionsOf(helloV2));
  });

  it('refuses to start a template', async () => {
    const r = await h.fleetctl(['start', 'web@.service']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Error: cannot start template unit web@.service: start an instance of it instead (such as web@1.service)\n');
    expect(h.api.requests).toEqual([]);
  });

  it('replaces a changed unit with --replace and waits for it', async () => {
    h.api.addUnit('hello.service', optionsOf(helloV2), { desiredState: 'launched' });
    const r = await h.fleetctl(['start', '--replace', path('hello.service')]);
    expect(r).toMatchObject({ code: 0, stdout: 'Unit hello.service replaced\nUnit hello.service launched on c31e44e1.../10.10.1.1\n' });
    expect(h.api.writes()).toEqual(['PUT /fleet/v1/units/hello.service launched +options']);
  });

  it('after --replace, waits until the machine runs the new unit file, not the previous one still active', async () => {
    h.api.addUnit('hello.service', optionsOf(helloV2), { desiredState: 'launched' });
    h.api.converge(); // the previous version runs on machine A
    h.api.autoConverge = false;
    convergeOnStatePoll(3);
    const r = await h.fleetctl(['start', '--replace', path('hello.service')]);
    expect(r).toMatchObject({ code: 0, stdout: 'Unit hello.service replaced\nUnit hello.service launched on c31e44e1.../10.10.1.1\n', stderr: '' });
    expect(r.sleeps).toEqual([250, 250]);
  });

  it('after --replace, a previous version that failed is not the new one failing', async () => {
    h.api.addUnit('hello.service', optionsOf(helloV2), { desiredState: 'launched' });
    h.api.failing.add('hello.service');
    h.api.converge(); // the previous version failed on machine A
    h.api.failing.delete('hello.service');
    h.api.autoConverge = false;
    convergeOnStatePoll(2);
    const r = await h.fleetctl(['start', '--replace', path('hello.service')]);
    expect(r).toMatchObject({ code: 0, stdout: 'Unit hello.service replaced\nUnit hello.service launched on c31e44e1.../10.10.1.1\n' });
  });
});

/** The fake cluster catches up with the registry when the n-th state poll comes in. */
function convergeOnStatePoll(n: number): void {
  let polls = 0;
  h.api.onRequest = (req) => {
    if (req.url.startsWith('/fleet/v1/state') && ++polls === n) h.api.converge();
  };
}

describe('load', () => {
  it('submits, sets loaded and waits for loaded', async () => {
    const r = await h.fleetctl(['load', path('hello.service')]);
    expect(r).toMatchObject({ code: 0, stdout: 'Unit hello.service inactive\nUnit hello.service loaded on c31e44e1.../10.10.1.1\n' });
    expect(h.api.writes()).toEqual(['PUT /fleet/v1/units/hello.service inactive +options', 'PUT /fleet/v1/units/hello.service loaded']);
  });

  it('ends the timeout error with the reason the API gives', async () => {
    h.api.autoConverge = false;
    h.api.addUnit('hello.service', optionsOf(hello), { reason });
    const r = await h.fleetctl(['load', '--block-attempts', '2', 'hello']);
    expect(r).toMatchObject({
      code: 1,
      stderr: `Error: timed out waiting for unit hello.service to report state loaded after 2 attempts (not scheduled): ${reason}\n`,
    });
  });

  it('after --replace, waits until the machine reports the new unit file loaded', async () => {
    h.api.addUnit('hello.service', optionsOf(helloV2), { desiredState: 'loaded' });
    h.api.converge();
    h.api.autoConverge = false;
    convergeOnStatePoll(2);
    const r = await h.fleetctl(['load', '--replace', path('hello.service')]);
    expect(r).toMatchObject({ code: 0, stdout: 'Unit hello.service replaced\nUnit hello.service loaded on c31e44e1.../10.10.1.1\n' });
    expect(r.sleeps).toEqual([250]);
  });

  it('never blocks on global units', async () => {
    h.api.autoConverge = false;
    h.api.addUnit('global.service', optionsOf(globalUnit));
    const r = await h.fleetctl(['load', 'global']);
    expect(r).toEqual({ code: 0, stdout: 'Triggered global unit global.service load\n', stderr: '', sleeps: [] });
    expect(h.api.writes()).toEqual(['PUT /fleet/v1/units/global.service loaded']);
  });
});

describe('stop, unload, destroy', () => {
  beforeEach(() => {
    h.api.addUnit('hello.service', optionsOf(hello), { desiredState: 'launched' });
  });

  it('stop sets loaded and waits until systemd no longer runs the unit', async () => {
    const r = await h.fleetctl(['stop', 'hello']);
    expect(r).toMatchObject({ code: 0, stdout: 'Unit hello.service loaded on c31e44e1.../10.10.1.1\n', stderr: '' });
    expect(h.api.writes()).toEqual(['PUT /fleet/v1/units/hello.service loaded']);
  });

  it('stop refuses a unit that is not loaded', async () => {
    h.api.addUnit('idle.service', optionsOf(hello));
    const r = await h.fleetctl(['stop', 'idle.service']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Error: Unable to stop unit idle.service in state inactive (load or start it first)\n');
  });

  it('stop and unload skip units that do not exist', async () => {
    expect(await h.fleetctl(['stop', 'nope.service'])).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(await h.fleetctl(['unload', 'nope.service'])).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(h.api.writes()).toEqual([]);
  });

  it('unload sets inactive and waits for it', async () => {
    const r = await h.fleetctl(['unload', 'hello.service']);
    expect(r).toMatchObject({ code: 0, stdout: 'Unit hello.service inactive\n' });
    expect(h.api.writes()).toEqual(['PUT /fleet/v1/units/hello.service inactive']);
  });

  it('destroy removes the unit and waits until it is gone', async () => {
    const r = await h.fleetctl(['destroy', 'hello.service']);
    expect(r).toMatchObject({ code: 0, stdout: 'Destroyed hello.service\n' });
    expect(h.api.writes()).toEqual(['DELETE /fleet/v1/units/hello.service']);
    expect(h.api.units.has('hello.service')).toBe(false);
  });

  it('destroy of a unit that does not exist succeeds silently', async () => {
    expect(await h.fleetctl(['destroy', 'nope'])).toMatchObject({ code: 0, stdout: '', stderr: '' });
  });

  it('destroy --no-block does not poll', async () => {
    const r = await h.fleetctl(['destroy', '--no-block', 'hello']);
    expect(r).toMatchObject({ code: 0, stdout: 'Destroyed hello.service\n' });
    expect(h.api.requests.map((q) => q.method)).toEqual(['DELETE']);
  });
});

describe('cat', () => {
  it('prints the registered unit serialised as fleet does', async () => {
    h.api.addUnit('hello.service', optionsOf(hello));
    const r = await h.fleetctl(['cat', 'hello']);
    expect(r).toMatchObject({ code: 0, stdout: hello, stderr: '' });
  });

  it('fails for a unit that does not exist', async () => {
    expect(await h.fleetctl(['cat', 'nope'])).toMatchObject({ code: 1, stderr: 'Error: Unit nope.service not found\n' });
  });
});

describe('API failures', () => {
  it("prints the API's error message", async () => {
    h.api.failNext = { status: 503, message: 'fleet server unable to communicate with etcd' };
    const r = await h.fleetctl(['cat', 'hello']);
    expect(r).toMatchObject({ code: 1, stderr: 'Error: fleet server unable to communicate with etcd\n' });
  });

  it('says which endpoint it cannot reach', async () => {
    const sock = join(h.dir, 'nothing.sock');
    const r = await h.fleetctl(['list-machines', '--endpoint', `unix://${sock}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`Error: cannot reach fleet API at unix://${sock}: connect ENOENT ${sock}\n`);
  });
});
