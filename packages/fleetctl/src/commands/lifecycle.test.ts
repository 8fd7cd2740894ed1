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

const legend = 'c31e44e1.../10.10.1.1';
const timedOut = (state: string): string =>
  `Error waiting for units: timed out waiting for unit hello.service to report state ${state}\n` +
  `Error waiting for unit states, exit status: timed out waiting for unit hello.service to report state ${state}\n`;

describe('start', () => {
  it('creates the unit launched in one request (fleet sends two), waits for launched and then for systemd to report it active', async () => {
    const r = await h.fleetctl(['start', path('hello.service')]);
    expect(r).toMatchObject({ code: 0, stdout: `Unit hello.service inactive\nUnit hello.service launched on ${legend}\n`, stderr: '' });
    expect(h.api.writes()).toEqual(['PUT /fleet/v1/units/hello.service launched +options']);
  });

  it('starts many units with a few listings, not a read per unit, and prints their lines in argument order', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `many-${String(i).padStart(2, '0')}.service`);
    for (const name of names) await writeFile(path(name), hello);
    const r = await h.fleetctl(['start', '--no-block', ...names.map(path)]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe([...names.map((n) => `Unit ${n} inactive`), ...names.map((n) => `Triggered unit ${n} start`), ...names.map((n) => `Triggered unit ${n} start`)].join('\n') + '\n');
    expect(h.api.requests.filter((q) => q.method === 'GET' && q.url.startsWith('/fleet/v1/units/'))).toEqual([]);
    expect(h.api.writes()).toEqual(['POST /fleet/v1/units']);
    const posted = (h.api.requests.find((q) => q.method === 'POST')?.body as { units: { name: string; desiredState: string }[] }).units;
    expect(posted.map((u) => `${u.name} ${u.desiredState}`)).toEqual(names.map((n) => `${n} launched`));
    expect([...h.api.units.values()].map((u) => `${u.name} ${u.desiredState}`).sort()).toEqual(names.map((n) => `${n} launched`));
  });

  it("exits 1 at once with the agent's failure when systemd refuses the unit for good, instead of waiting", async () => {
    h.api.refused.set('hello.service', 'systemd EnableUnitFiles hello.service failed: its [Install] section has no rule systemd can apply');
    const r = await h.fleetctl(['start', path('hello.service')]);
    const message = 'unit hello.service cannot reach state launched: systemd EnableUnitFiles hello.service failed: its [Install] section has no rule systemd can apply';
    expect(r).toMatchObject({ code: 1, stdout: 'Unit hello.service inactive\n', stderr: `Error waiting for units: ${message}\nError waiting for unit states, exit status: ${message}\n` });
  });

  it("falls back to a PUT per unit where the API has no POST /units (fleet's answers 405), with the same lines", async () => {
    const names = ['a.service', 'b.service', 'c.service'];
    for (const name of names) await writeFile(path(name), hello);
    h.api.onRequest = (req) => {
      if (req.method === 'POST') h.api.failNext = { status: 405, message: 'method not allowed' };
    };
    const r = await h.fleetctl(['start', '--no-block', ...names.map(path)]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe([...names.map((n) => `Unit ${n} inactive`), ...names.map((n) => `Triggered unit ${n} start`), ...names.map((n) => `Triggered unit ${n} start`)].join('\n') + '\n');
    expect(h.api.writes()).toEqual(['POST /fleet/v1/units', ...names.map((n) => `PUT /fleet/v1/units/${n} launched +options`)]);
  });

  it('leaves an already launched unit alone and prints nothing, as fleet does', async () => {
    h.api.addUnit('hello.service', optionsOf(hello), { desiredState: 'launched' });
    expect(await h.fleetctl(['start', 'hello'])).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(h.api.writes()).toEqual([]);
  });

  it('with --no-block, says twice that it triggered the start (as fleet does) and waits for nothing', async () => {
    const r = await h.fleetctl(['start', '--no-block', path('hello.service')]);
    expect(r).toMatchObject({ code: 0, stdout: 'Unit hello.service inactive\n' + 'Triggered unit hello.service start\n'.repeat(2) });
    expect(h.api.requests.filter((q) => q.url.startsWith('/fleet/v1/state'))).toEqual([]);
  });

  it("gives up after --block-attempts polls, with fleet's two lines", async () => {
    h.api.autoConverge = false;
    h.api.addUnit('hello.service', optionsOf(hello), { reason: 'no machine matches MachineMetadata=region=mars' });
    const r = await h.fleetctl(['start', '--block-attempts', '3', 'hello.service']);
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: timedOut('launched') });
    expect(r.sleeps).toEqual([500, 500]);
  });

  it("on a terminal, shows progress and the API's reason after fleet's lines", async () => {
    h.api.autoConverge = false;
    h.api.addUnit('hello.service', optionsOf(hello), { reason });
    const r = await h.fleetctl(['start', '--block-attempts', '6', 'hello.service'], {}, { interactive: true });
    const where = `hello.service is not scheduled (state inactive): ${reason}`;
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: `Waiting for hello.service: ${where}\n${timedOut('launched')}${where}\n` });
  });

  it('fails as fleet does when systemd does not report the unit active within 2 s', async () => {
    h.api.failing.add('hello.service');
    const r = await h.fleetctl(['start', path('hello.service')]);
    const failed = 'Failed to find an active unit hello.service within 2s, err: Failed to fetch states within 2s';
    expect(r).toMatchObject({
      code: 1,
      stdout: `Unit hello.service inactive\nUnit hello.service launched on ${legend}\n`,
      stderr: `Error waiting for units: ${failed}\nError waiting for systemd unit states, err: ${failed}\n`,
    });
  });

  it('waits while systemd activates the unit, longer than fleet would', async () => {
    h.api.autoConverge = false;
    let polls = 0;
    h.api.onRequest = (req) => {
      if (req.method === 'GET' && req.url === '/fleet/v1/units/hello.service') h.api.converge();
      if (req.url !== '/fleet/v1/state') return;
      polls++;
      const state = h.api.states[0];
      if (state !== undefined) h.api.putState({ ...state, ...(polls < 12 ? { systemdActiveState: 'activating', systemdSubState: 'start' } : { systemdActiveState: 'active', systemdSubState: 'running' }) });
    };
    h.api.addUnit('hello.service', optionsOf(hello));
    const r = await h.fleetctl(['start', 'hello.service']);
    expect(r).toMatchObject({ code: 0, stdout: `Unit hello.service launched on ${legend}\n`, stderr: '' });
    expect(polls).toBeGreaterThanOrEqual(12);
  });

  it('never blocks on global units', async () => {
    await writeFile(path('global.service'), globalUnit);
    const r = await h.fleetctl(['start', path('global.service')]);
    expect(r).toMatchObject({ code: 0, stdout: 'Unit global.service \nTriggered global unit global.service start\n', stderr: '' });
  });

  it('reads Global= as the engine does: a quoted "true" is global too', async () => {
    h.api.autoConverge = false;
    h.api.addUnit('quoted.service', optionsOf(globalUnit.replace('Global=true', 'Global="true"')), { currentState: '' });
    const r = await h.fleetctl(['start', '--block-attempts', '1', 'quoted.service']);
    expect(r).toEqual({ code: 0, stdout: 'Triggered global unit quoted.service start\n', stderr: '', sleeps: [] });
    expect(h.api.requests.filter((q) => q.url.startsWith('/fleet/v1/state'))).toEqual([]);
  });

  it('creates an instance from a local template next to the argument', async () => {
    await writeFile(path('web@.service'), web);
    const r = await h.fleetctl(['start', path('web@1')]);
    expect(r).toMatchObject({ code: 0, stdout: `Unit web@1.service inactive\nUnit web@1.service launched on ${legend}\n` });
    expect(h.api.units.get('web@1.service')?.options).toEqual(optionsOf(web));
  });

  it('leaves it to the API to refuse starting a template, as fleet does', async () => {
    h.api.addUnit('web@.service', optionsOf(web));
    const r = await h.fleetctl(['start', 'web@.service']);
    expect(r).toMatchObject({ code: 1, stderr: 'Error starting units: googleapi: Error 400: unit web@.service is a template: its desired state can only be inactive\n' });
  });

  it('re-creates a changed unit with --replace (inactive again), then starts it', async () => {
    h.api.addUnit('hello.service', optionsOf(helloV2), { desiredState: 'launched' });
    const r = await h.fleetctl(['start', '--replace', path('hello.service')]);
    expect(r).toMatchObject({ code: 0, stdout: `Unit hello.service inactive\nUnit hello.service launched on ${legend}\n`, stderr: '' });
    expect(h.api.writes()).toEqual(['PUT /fleet/v1/units/hello.service +options', 'PUT /fleet/v1/units/hello.service launched']);
    expect(h.api.units.get('hello.service')?.options).toEqual(optionsOf(hello));
  });
});

describe('load', () => {
  it('creates the unit loaded in one request and waits for loaded', async () => {
    const r = await h.fleetctl(['load', path('hello.service')]);
    expect(r).toMatchObject({ code: 0, stdout: `Unit hello.service inactive\nUnit hello.service loaded on ${legend}\n` });
    expect(h.api.writes()).toEqual(['PUT /fleet/v1/units/hello.service loaded +options']);
  });

  it("gives up after --block-attempts with fleet's lines", async () => {
    h.api.autoConverge = false;
    h.api.addUnit('hello.service', optionsOf(hello), { reason });
    expect(await h.fleetctl(['load', '--block-attempts', '2', 'hello'])).toMatchObject({ code: 1, stderr: timedOut('loaded') });
  });

  it('never blocks on global units', async () => {
    h.api.autoConverge = false;
    h.api.addUnit('global.service', optionsOf(globalUnit), { currentState: '' });
    const r = await h.fleetctl(['load', 'global']);
    expect(r).toEqual({ code: 0, stdout: 'Triggered global unit global.service load\n', stderr: '', sleeps: [] });
    expect(h.api.writes()).toEqual(['PUT /fleet/v1/units/global.service loaded']);
  });
});

describe('stop, unload, destroy', () => {
  beforeEach(() => {
    h.api.addUnit('hello.service', optionsOf(hello), { desiredState: 'launched' });
    h.api.converge();
  });

  it("stop sets loaded, waits until systemd no longer runs the unit, then says fleet's last line", async () => {
    const r = await h.fleetctl(['stop', 'hello']);
    expect(r).toMatchObject({ code: 0, stdout: `Unit hello.service loaded on ${legend}\n`, stderr: 'Successfully stopped units [hello.service].\n' });
    expect(h.api.writes()).toEqual(['PUT /fleet/v1/units/hello.service loaded']);
  });

  it('stop ends at a unit whose current state is inactive, as fleet does', async () => {
    h.api.addUnit('idle.service', optionsOf(hello));
    expect(await h.fleetctl(['stop', 'idle.service', 'hello'])).toMatchObject({ code: 1, stdout: '', stderr: 'Unable to stop unit idle.service in state inactive\n' });
    expect(h.api.writes()).toEqual([]);
  });

  it('stop skips a unit that is loaded already; unload one that is inactive', async () => {
    h.api.addUnit('idle.service', optionsOf(hello));
    h.api.addUnit('stopped.service', optionsOf(hello), { desiredState: 'loaded' });
    expect(await h.fleetctl(['stop', 'stopped'])).toMatchObject({ code: 0, stdout: '', stderr: 'Successfully stopped units [].\n' });
    expect(await h.fleetctl(['unload', 'idle'])).toMatchObject({ code: 0, stdout: '', stderr: 'Successfully unloaded units [].\n' });
    expect(h.api.writes()).toEqual([]);
  });

  it.each([['stop'], ['unload'], ['destroy']])('%s of units that do not exist says so on stderr and succeeds', async (command) => {
    expect(await h.fleetctl([command, 'nope.service', 'nope2'])).toMatchObject({ code: 0, stdout: '', stderr: 'Units not found in registry\n' });
    expect(h.api.writes()).toEqual([]);
  });

  it.each([['stop'], ['unload'], ['destroy'], ['restart'], ['load'], ['start']])('%s without units says so and succeeds', async (command) => {
    expect(await h.fleetctl([command])).toMatchObject({ code: 0, stdout: '', stderr: 'No units given\n' });
    expect(h.api.requests).toEqual([]);
  });

  it('unload sets inactive and waits for it', async () => {
    const r = await h.fleetctl(['unload', 'hello.service']);
    expect(r).toMatchObject({ code: 0, stdout: 'Unit hello.service inactive\n', stderr: 'Successfully unloaded units [hello.service].\n' });
    expect(h.api.writes()).toEqual(['PUT /fleet/v1/units/hello.service inactive']);
  });

  it('unload --no-block only triggers', async () => {
    const r = await h.fleetctl(['unload', '--no-block', 'hello.service']);
    expect(r).toMatchObject({ code: 0, stdout: 'Triggered unit hello.service unload\n', stderr: 'Successfully unloaded units [hello.service].\n' });
  });

  it("stop that times out prints fleet's failure lines", async () => {
    h.api.autoConverge = false;
    const r = await h.fleetctl(['stop', '--block-attempts', '2', 'hello']);
    const message = 'timed out waiting for unit hello.service to report state loaded';
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: `Error waiting for units: ${message}\nFailed to stop units [hello.service]. err: ${message}\n` });
  });

  it('triggers global units without waiting', async () => {
    h.api.addUnit('global.service', optionsOf(globalUnit), { desiredState: 'launched' });
    const r = await h.fleetctl(['stop', 'global']);
    expect(r).toMatchObject({ code: 0, stdout: 'Triggered global unit global.service stop\n', stderr: 'Successfully stopped units [].\n' });
  });

  it('destroy removes the units and then names them', async () => {
    h.api.addUnit('other.service', optionsOf(hello));
    const r = await h.fleetctl(['destroy', 'hello.service', 'nope', 'other', 'hello']);
    expect(r).toMatchObject({ code: 0, stdout: 'Destroyed hello.service\nDestroyed other.service\n', stderr: '' });
    expect(h.api.writes()).toEqual(['DELETE /fleet/v1/units/hello.service', 'DELETE /fleet/v1/units/other.service', 'DELETE /fleet/v1/units/hello.service']);
    expect(h.api.units.size).toBe(0);
  });

  it('destroy goes on after a unit it cannot remove, and exits 1', async () => {
    h.api.addUnit('other.service', optionsOf(hello));
    h.api.onRequest = (req) => {
      if (req.method === 'DELETE' && req.url.endsWith('/hello.service')) h.api.failNext = { status: 500, message: 'boom' };
    };
    const r = await h.fleetctl(['destroy', 'hello', 'other']);
    expect(r).toMatchObject({ code: 1, stdout: 'Destroyed other.service\n', stderr: 'Error destroying units: googleapi: Error 500: boom\n' });
  });

  it('destroy --no-block lists the units once and removes them', async () => {
    const r = await h.fleetctl(['destroy', '--no-block', 'hello']);
    expect(r).toMatchObject({ code: 0, stdout: 'Destroyed hello.service\n' });
    expect(h.api.requests.map((q) => q.method)).toEqual(['GET', 'DELETE']);
  });
});

describe('cat', () => {
  it('prints the registered unit serialised as fleet does', async () => {
    h.api.addUnit('hello.service', optionsOf(hello));
    expect(await h.fleetctl(['cat', 'hello'])).toMatchObject({ code: 0, stdout: hello, stderr: '' });
  });

  it('fails for a unit that does not exist', async () => {
    expect(await h.fleetctl(['cat', 'nope'])).toMatchObject({ code: 1, stderr: 'Unit nope.service not found\n' });
  });
});

describe('API failures', () => {
  it("prints the API's error message as fleet's client does", async () => {
    h.api.failNext = { status: 503, message: 'fleet server unable to communicate with etcd' };
    const r = await h.fleetctl(['cat', 'hello']);
    expect(r).toMatchObject({ code: 1, stderr: 'Error retrieving Unit hello.service: googleapi: Error 503: fleet server unable to communicate with etcd\n' });
  });

  it('words an API that cannot be reached as Go does', async () => {
    const sock = join(h.dir, 'nothing.sock');
    const r = await h.fleetctl(['list-machines', '--endpoint', `unix://${sock}`]);
    expect(r).toMatchObject({
      code: 1,
      stderr:
        `Error retrieving list of active machines from fleet API (Get "http://domain-sock/fleet/v1/machines?alt=json": dial unix ${sock}: connect: no such file or directory)\n` +
        'Possible issues:\n  etcd is unhealthy and/or lost quorum\n  connection cannot be established to any etcd servers\n',
    });
    expect(await h.fleetctl(['stop', 'x', '--endpoint', `unix://${sock}`])).toMatchObject({
      code: 1,
      stderr: `Get "http://domain-sock/fleet/v1/units?alt=json": dial unix ${sock}: connect: no such file or directory\n`,
    });
  });

  it('words a refused TCP connection as Go does', async () => {
    const r = await h.fleetctl(['list-units', '--endpoint', 'http://127.0.0.1:1']);
    expect(r).toMatchObject({
      code: 1,
      stderr: 'Error retrieving list of units from repository: Get "http://127.0.0.1:1/fleet/v1/state?alt=json": dial tcp 127.0.0.1:1: connect: connection refused\n',
    });
  });
});
