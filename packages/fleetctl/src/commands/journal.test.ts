import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Interrupts } from '../interrupts.js';
import { CapturedOutput } from '../testing/captured-output.js';
import { machineA, machineB, optionsOf, startHarness } from '../testing/harness.js';
import type { Harness } from '../testing/harness.js';

const hello = '[Unit]\nDescription=Hello\n\n[Service]\nExecStart=/bin/true\n';
const globalUnit = '[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nGlobal=true\n';
const log = (n: number) => `Nov 22 02:37:${String(n).padStart(2, '0')} m1 sh[12053]: Hello ${n}`;

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
  h.api.addUnit('hello.service', optionsOf(hello), { desiredState: 'launched' });
  h.api.addUnit('global.service', optionsOf(globalUnit), { desiredState: 'launched' });
  h.api.converge(); // hello.service on machine A, global.service on A and B
  h.api.autoConverge = false;
  h.api.addUnit('idle.service', optionsOf(hello));
  h.api.journals.set(`${machineA}/hello.service`, Array.from({ length: 12 }, (_, i) => log(i + 1)));
  h.api.journals.set(`${machineB}/global.service`, ['global on B']);
});
afterEach(async () => {
  await h.close();
});

const journalUrls = () => h.api.requests.filter((r) => r.url.includes('/journal')).map((r) => r.url);

describe('journal', () => {
  it("prints the newest 10 lines of the unit's log, from the machine it is scheduled to", async () => {
    const r = await h.fleetctl(['journal', 'hello']);
    expect(r).toMatchObject({ code: 0, stdout: Array.from({ length: 10 }, (_, i) => `${log(i + 3)}\n`).join(''), stderr: '' });
    expect(journalUrls()).toEqual([`/fleet/v1/machines/${machineA}/units/hello.service/journal?lines=10&follow=false`]);
  });

  it('prints --lines N lines; fleet\'s --output short, --sudo and --ssh-port are accepted', async () => {
    const r = await h.fleetctl(['journal', '--lines', '2', '--output', 'short', '--sudo', '--ssh-port', '2222', 'hello.service']);
    expect(r).toMatchObject({ code: 0, stdout: `${log(11)}\n${log(12)}\n`, stderr: '' });
  });

  it.each([
    [['journal', '--lines', '-1', 'hello'], 'Error: --lines must be a whole number >= 0, got -1\n'],
    [['journal', '--lines', '-1', 'hello'], 'Error: --lines must be a whole number >= 0, got -1\n'],
    [
      ['journal', '--lines', '1.5', 'hello'],
      'Error: invalid argument "1.5" for --lines: strconv.ParseInt: parsing "1.5": invalid syntax\n\n' +
        'cannot execute cmdFleet: invalid argument "1.5" for --lines: strconv.ParseInt: parsing "1.5": invalid syntax\n',
    ],
    [['journal', '--output', 'json', 'hello'], 'Error: --output json is not supported: only "short" is\n'],
  ])('refuses %j before asking the API', async (args, stderr) => {
    expect(await h.fleetctl(args)).toMatchObject({ code: 1, stdout: '', stderr });
    expect(h.api.requests).toEqual([]);
  });

  it.each([
    ['a unit that does not exist', ['nope'], 'Unit nope.service does not exist.\n'],
    ['a unit that is not running', ['idle'], 'Unit idle.service does not appear to be running.\n'],
    ['a global unit without --machine', ['global'], 'Unable to retrieve journal of global unit global.service.\n'],
    ['an unknown --machine prefix', ['--machine', 'abc', 'global'], 'Error: no machine ID starts with "abc"\n'],
  ])('fails for %s', async (_what, args, stderr) => {
    expect(await h.fleetctl(['journal', ...args])).toMatchObject({ code: 1, stdout: '', stderr });
    expect(journalUrls()).toEqual([]);
  });

  it('names the machines of a global unit on a terminal, to pick one with --machine', async () => {
    const r = await h.fleetctl(['journal', 'global'], {}, { interactive: true });
    expect(r).toMatchObject({
      code: 1,
      stderr: `Unable to retrieve journal of global unit global.service.\nglobal.service runs on every matching machine; pick one with --machine: ${machineB}, ${machineA}\n`,
    });
  });

  it('reads a global unit\'s log on the machine given by a unique ID prefix', async () => {
    const r = await h.fleetctl(['journal', '--machine', machineB.slice(0, 8), 'global']);
    expect(r).toMatchObject({ code: 0, stdout: 'global on B\n', stderr: '' });
    expect(journalUrls()).toEqual([`/fleet/v1/machines/${machineB}/units/global.service/journal?lines=10&follow=false`]);
  });

  it('reads the log on another machine given by its full ID, for a unit scheduled elsewhere', async () => {
    h.api.journals.set(`${machineB}/hello.service`, ['before it moved']);
    const r = await h.fleetctl(['journal', '--machine', machineB, 'hello']);
    expect(r).toMatchObject({ code: 0, stdout: 'before it moved\n' });
    expect(h.api.requests.some((q) => q.url === '/fleet/v1/machines')).toBe(false);
  });

  it("fails with the API's message when the machine's fleetd cannot be reached", async () => {
    h.api.unreachable.add(machineA);
    const r = await h.fleetctl(['journal', 'hello']);
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: `Error: machine ${machineA} could not be reached at http://fake: connect ECONNREFUSED\n` });
  });

  it('does not take Ctrl-C over without -f', async () => {
    const ctrlC = fakeCtrlC();
    await h.fleetctl(['journal', 'hello'], {}, { interrupts: ctrlC.interrupts });
    expect(ctrlC.captured).toBe(0);
  });
});

describe('journal -f', () => {
  it('prints new lines as they come until Ctrl-C, then exits 0 and closes the connection', async () => {
    const ctrlC = fakeCtrlC();
    const output = new CapturedOutput();
    // The machine logs a new line once fleetctl printed the first ones; Ctrl-C once that one is printed.
    const out = (text: string): void => {
      output.out(text);
      if (text === `${log(12)}\n`) h.api.appendJournal(machineA, 'hello.service', 'new line');
      if (text === 'new line\n') ctrlC.press();
    };
    const r = await h.fleetctl(['journal', '-f', '--lines', '2', 'hello'], {}, { output: { out, err: output.err }, interrupts: ctrlC.interrupts });
    expect(r.code).toBe(0);
    expect(output.stdout).toBe(`${log(11)}\n${log(12)}\nnew line\n`);
    expect(output.stderr).toBe('');
    expect(journalUrls()).toEqual([`/fleet/v1/machines/${machineA}/units/hello.service/journal?lines=2&follow=true`]);
    expect(ctrlC).toMatchObject({ captured: 1, released: 1 });
    await h.api.whenFollowers(0);
  });

  it('accepts --follow and gives Ctrl-C back when the server ends the log', async () => {
    const ctrlC = fakeCtrlC();
    const run = h.fleetctl(['journal', '--follow', '--lines', '0', 'hello'], {}, { interrupts: ctrlC.interrupts });
    await h.api.whenFollowers(1);
    h.api.appendJournal(machineA, 'hello.service', 'last');
    h.api.endJournals();
    const r = await run;
    expect(r).toMatchObject({ code: 0, stdout: 'last\n' });
    expect(ctrlC).toMatchObject({ captured: 1, released: 1 });
  });
});

/** Ctrl-C under the test's control. */
function fakeCtrlC() {
  const controller = new AbortController();
  const state = {
    captured: 0,
    released: 0,
    press: () => controller.abort(),
    interrupts: {
      capture: () => {
        state.captured++;
        return { signal: controller.signal, release: () => void state.released++ };
      },
    } satisfies Interrupts,
  };
  return state;
}
