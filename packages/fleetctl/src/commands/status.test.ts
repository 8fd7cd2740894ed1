import { hashUnitFile } from '@fleet/core/model';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { machineA, machineB, optionsOf, startHarness } from '../testing/harness.js';
import type { Harness } from '../testing/harness.js';

const hello = '[Unit]\nDescription=Hello World\n\n[Service]\nExecStart=/bin/true\n';
const globalUnit = '[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nGlobal=true\n';
const pending = '[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nMachineMetadata=rack=r3\n';
const reason = '3 machines: 2 rejected by MachineMetadata rack=r3, 1 by Conflicts=db*';

// What the machines' systemd says (the test cluster's FakeInspection).
const helloText =
  '● hello.service - Hello World\n' +
  '     Loaded: loaded (/run/fleet/units/hello.service; linked-runtime)\n' +
  '     Active: active (running) since Sun 2026-11-22 02:37:09 UTC; 2s ago\n' +
  '   Main PID: 12053\n' +
  '     CGroup: /fleet-abc-m1/app.slice/hello.service';
const helloData = { name: 'hello.service', activeState: 'active', subState: 'running', service: { mainPid: 12053 } };
const globalText = (n: string) => `● global.service\n     Active: active (running) on ${n}`;

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
  h.api.addUnit('hello.service', optionsOf(hello), { desiredState: 'launched' });
  h.api.addUnit('global.service', optionsOf(globalUnit), { desiredState: 'launched' });
  // hello.service on machine A, global.service on A and B.
  h.api.converge();
  h.api.autoConverge = false;
  h.api.addUnit('pending.service', optionsOf(pending), { desiredState: 'launched', reason });
  h.api.systemdStatus.set(`${machineA}/hello.service`, { text: helloText, unit: helloData });
  h.api.systemdStatus.set(`${machineA}/global.service`, { text: globalText('A'), unit: { name: 'global.service' } });
  h.api.systemdStatus.set(`${machineB}/global.service`, { text: `${globalText('B')}\n`, unit: { name: 'global.service' } });
});
afterEach(async () => {
  await h.close();
});

const helloFleet =
  '● hello.service - Hello World\n' +
  '   Desired: launched   Current: launched\n' +
  '   Machine: c31e44e1.../10.10.1.1\n' +
  '   State:   loaded active running on c31e44e1.../10.10.1.1\n';
const helloBlock = `${helloFleet}\n${helloText}\n`;

describe('status', () => {
  it('prints one block per unit, in argument order, separated by an empty line', async () => {
    // Loaded on B (our API has a current state only for a unit a machine reports; see the
    // formatter's own test for a unit with no machine and no state).
    h.api.place('pending.service', machineB, 'loaded');
    const r = await h.fleetctl(['status', 'hello', 'global.service', 'pending']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(
      helloBlock +
        '\n' +
        '● global.service\n' +
        '   Desired: launched   Current: -\n' +
        '   Machine: global\n' +
        '   State:   loaded active running on 595989bb.../10.10.1.2\n' +
        '            loaded active running on c31e44e1.../10.10.1.1\n' +
        '\n' +
        '   on 595989bb.../10.10.1.2:\n' +
        `${globalText('B')}\n` +
        '\n' +
        '   on c31e44e1.../10.10.1.1:\n' +
        `${globalText('A')}\n` +
        '\n' +
        '● pending.service\n' +
        '   Desired: launched   Current: loaded\n' +
        '   Machine: 595989bb.../10.10.1.2\n' +
        `   Reason:  ${reason}\n` +
        '   State:   loaded inactive dead on 595989bb.../10.10.1.2\n' +
        '\n' +
        '○ pending.service\n' +
        '     Loaded: loaded (/run/fleet/units/pending.service; linked-runtime)\n' +
        '     Active: inactive (dead)\n',
    );
  });

  it('appends systemd\'s status after the fleet block, as the machine rendered it', async () => {
    const r = await h.fleetctl(['status', 'hello']);
    expect(r).toEqual({
      code: 0,
      stdout:
        '● hello.service - Hello World\n' +
        '   Desired: launched   Current: launched\n' +
        '   Machine: c31e44e1.../10.10.1.1\n' +
        '   State:   loaded active running on c31e44e1.../10.10.1.1\n' +
        '\n' +
        '● hello.service - Hello World\n' +
        '     Loaded: loaded (/run/fleet/units/hello.service; linked-runtime)\n' +
        '     Active: active (running) since Sun 2026-11-22 02:37:09 UTC; 2s ago\n' +
        '   Main PID: 12053\n' +
        '     CGroup: /fleet-abc-m1/app.slice/hello.service\n',
      stderr: '',
      sleeps: [],
    });
  });

  it('says in one line when a machine\'s systemd status is unavailable, and goes on (exit 0)', async () => {
    h.api.unreachable.add(machineB);
    const r = await h.fleetctl(['status', 'global', 'hello']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(
      '● global.service\n' +
        '   Desired: launched   Current: -\n' +
        '   Machine: global\n' +
        '   State:   loaded active running on 595989bb.../10.10.1.2\n' +
        '            loaded active running on c31e44e1.../10.10.1.1\n' +
        '\n' +
        '   on 595989bb.../10.10.1.2:\n' +
        `   systemd status unavailable: machine ${machineB} could not be reached at http://fake: connect ECONNREFUSED\n` +
        '\n' +
        '   on c31e44e1.../10.10.1.1:\n' +
        `${globalText('A')}\n` +
        '\n' +
        helloBlock,
    );
  });

  it('keeps going when etcd is down for one status request', async () => {
    h.api.onRequest = (req) => {
      if (req.url.endsWith('/units/hello.service/status')) h.api.failNext = { status: 503, message: 'fleet is unable to communicate with etcd' };
    };
    const r = await h.fleetctl(['status', 'hello']);
    expect(r).toMatchObject({ code: 0, stdout: `${helloFleet}\n   systemd status unavailable: fleet is unable to communicate with etcd\n` });
  });

  it('prints full machine IDs with -l', async () => {
    const r = await h.fleetctl(['status', '-l', 'hello']);
    expect(r.stdout).toBe(
      '● hello.service - Hello World\n' +
        '   Desired: launched   Current: launched\n' +
        `   Machine: ${machineA}/10.10.1.1\n` +
        `   State:   loaded active running on ${machineA}/10.10.1.1\n` +
        `\n${helloText}\n`,
    );
  });

  it('shows every state entry, also of a machine the unit is no longer scheduled to, with its systemd status', async () => {
    h.api.putState({ name: 'hello.service', hash: 'abc', machineID: machineB, systemdLoadState: 'loaded', systemdActiveState: 'deactivating', systemdSubState: 'stop-sigterm' });
    const r = await h.fleetctl(['status', 'hello']);
    expect(r.stdout).toBe(
      '● hello.service - Hello World\n' +
        '   Desired: launched   Current: launched\n' +
        '   Machine: c31e44e1.../10.10.1.1\n' +
        '   State:   loaded deactivating stop-sigterm on 595989bb.../10.10.1.2\n' +
        '            loaded active running on c31e44e1.../10.10.1.1\n' +
        '\n' +
        // B's text is made up from its state entry (FakeInspection).
        '   on 595989bb.../10.10.1.2:\n' +
        '● hello.service - Hello World\n' +
        '     Loaded: loaded (/run/fleet/units/hello.service; linked-runtime)\n' +
        '     Active: deactivating (stop-sigterm)\n' +
        '\n' +
        '   on c31e44e1.../10.10.1.1:\n' +
        `${helloText}\n`,
    );
  });

  it('prints a JSON array with -o json: full machine IDs, null for "none", systemd\'s status per machine', async () => {
    h.api.unreachable.add(machineB);
    const r = await h.fleetctl(['status', '-o', 'json', 'hello', 'global', 'pending']);
    const helloHash = hashUnitFile(optionsOf(hello));
    const globalHash = hashUnitFile(optionsOf(globalUnit));
    const state = (machine: string, hash: string) => ({ machine, load: 'loaded', active: 'active', sub: 'running', hash });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout.endsWith('\n')).toBe(true);
    expect(JSON.parse(r.stdout)).toEqual([
      {
        unit: 'hello.service',
        description: 'Hello World',
        desiredState: 'launched',
        currentState: 'launched',
        machine: machineA,
        global: false,
        reason: null,
        states: [state(machineA, helloHash)],
        systemd: [{ machine: machineA, text: helloText, unit: helloData, error: null }],
      },
      {
        unit: 'global.service',
        description: null,
        desiredState: 'launched',
        currentState: '',
        machine: null,
        global: true,
        reason: null,
        states: [state(machineB, globalHash), state(machineA, globalHash)],
        systemd: [
          { machine: machineB, text: null, unit: null, error: `machine ${machineB} could not be reached at http://fake: connect ECONNREFUSED` },
          { machine: machineA, text: globalText('A'), unit: { name: 'global.service' }, error: null },
        ],
      },
      {
        unit: 'pending.service',
        description: null,
        desiredState: 'launched',
        currentState: 'inactive',
        machine: null,
        global: false,
        reason,
        states: [],
        systemd: [],
      },
    ]);
  });

  it('reads through the API only: one systemd status per state entry, the machine list once for the legends', async () => {
    await h.fleetctl(['status', 'hello', 'global']);
    expect(h.api.requests.map((q) => `${q.method} ${q.url}`)).toEqual([
      'GET /fleet/v1/units/hello.service',
      'GET /fleet/v1/state?unitName=hello.service',
      `GET /fleet/v1/machines/${machineA}/units/hello.service/status`,
      'GET /fleet/v1/units/global.service',
      'GET /fleet/v1/state?unitName=global.service',
      `GET /fleet/v1/machines/${machineB}/units/global.service/status`,
      `GET /fleet/v1/machines/${machineA}/units/global.service/status`,
      'GET /fleet/v1/machines',
    ]);
  });

  it('does not need the machine list for JSON', async () => {
    await h.fleetctl(['status', '-o', 'json', 'hello']);
    expect(h.api.requests.some((q) => q.url.startsWith('/fleet/v1/machines?') || q.url === '/fleet/v1/machines')).toBe(false);
  });

  it('prints machine IDs without IPs when the machine list is unavailable', async () => {
    h.api.onRequest = (req) => {
      if (req.url === '/fleet/v1/machines') h.api.failNext = { status: 503, message: 'etcd down' };
    };
    const r = await h.fleetctl(['status', 'hello']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toContain('   Machine: c31e44e1...\n   State:   loaded active running on c31e44e1...\n');
  });

  it('keeps a multi-line description and reason on one line each', async () => {
    const options = [{ section: 'Unit', name: 'Description', value: 'two\n  lines' }, { section: 'Service', name: 'ExecStart', value: '/bin/true' }];
    h.api.addUnit('odd.service', options, { desiredState: 'loaded', currentState: 'loaded', machineID: machineA, reason: 'first\nsecond' });
    h.api.systemdStatus.set(`${machineA}/odd.service`, { text: '○ odd.service - two\n  lines', unit: { name: 'odd.service' } });
    const r = await h.fleetctl(['status', 'odd']);
    expect(r.stdout).toBe(
      '● odd.service - two lines\n' +
        '   Desired: loaded   Current: loaded\n' +
        '   Machine: c31e44e1.../10.10.1.1\n' +
        '   Reason:  first second\n' +
        '   State:   loaded inactive dead on c31e44e1.../10.10.1.1\n' +
        '\n' +
        '○ odd.service - two\n' +
        '  lines\n',
    );
  });
});

describe('status of units fleet would not show', () => {
  it("exits 1 for a unit that does not exist, in fleet's words", async () => {
    expect(await h.fleetctl(['status', 'nope'])).toMatchObject({ code: 1, stdout: '', stderr: 'Unit nope.service does not exist.\n' });
  });

  it('stops at the first such unit, after the blocks of the units before it, as fleet does', async () => {
    expect(await h.fleetctl(['status', 'nope', 'hello'])).toMatchObject({ code: 1, stdout: '', stderr: 'Unit nope.service does not exist.\n' });
    expect(await h.fleetctl(['status', 'hello', 'nope', 'global'])).toMatchObject({ code: 1, stdout: helloBlock, stderr: 'Unit nope.service does not exist.\n' });
  });

  it('exits 1 for a unit that is not loaded; on a terminal, says why it is not scheduled', async () => {
    const r = await h.fleetctl(['status', 'hello', 'pending']);
    expect(r).toMatchObject({ code: 1, stdout: helloBlock, stderr: 'Unit pending.service does not appear to be loaded.\n' });
    const terminal = await h.fleetctl(['status', 'pending'], {}, { interactive: true });
    expect(terminal.stderr).toBe(`Unit pending.service does not appear to be loaded.\npending.service is not scheduled: ${reason}\n`);
  });

  it('still prints valid JSON of the others with -o json (ours), naming the missing ones', async () => {
    const r = await h.fleetctl(['status', '-o', 'json', 'nope', 'hello', 'pending', 'nope2']);
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as { unit: string }[]).map((u) => u.unit)).toEqual(['hello.service', 'pending.service']);
    expect(r.stderr).toBe('Unit nope.service does not exist.\nUnit nope2.service does not exist.\n');
  });

  it('passes a bad name on to the API, as fleet does', async () => {
    const r = await h.fleetctl(['status', 'hello', 'bad$name']);
    expect(r).toMatchObject({ code: 1, stdout: helloBlock, stderr: 'Unit bad$name.service does not exist.\n' });
  });

  it("accepts fleet's --ssh-port and ignores it (no SSH)", async () => {
    const r = await h.fleetctl(['status', '--ssh-port', '2222', 'hello']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toContain('● hello.service - Hello World');
  });
});
