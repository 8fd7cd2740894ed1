import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { optionsOf, startHarness } from '../testing/harness.js';
import type { Harness } from '../testing/harness.js';

// How fleet's fleetctl creates units (its lazyCreateUnits), as `submit` shows it.

const hello = '[Unit]\nDescription=Hello\n\n[Service]\nExecStart=/bin/sh -c "while true; do echo Hello; sleep 1; done"\n';
const helloV2 = '[Unit]\nDescription=Hello v2\n\n[Service]\nExecStart=/bin/sleep infinity\n';
const web = '[Service]\nExecStart=/bin/echo %i\n';

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
  it('creates a unit without a desired state (the API stores inactive) and waits until it reports inactive', async () => {
    const r = await h.fleetctl(['submit', path('hello')]);
    expect(r).toMatchObject({ code: 0, stdout: 'Unit hello.service inactive\n', stderr: '' });
    expect(h.api.writes()).toEqual(['PUT /fleet/v1/units/hello.service +options']);
    expect(h.api.units.get('hello.service')?.options).toEqual(optionsOf(hello));
  });

  it('says nothing when there are no units, and succeeds, as fleet does', async () => {
    expect(await h.fleetctl(['submit'])).toMatchObject({ code: 0, stdout: '', stderr: 'No units given\n' });
    expect(h.api.requests).toEqual([]);
  });

  it('does nothing when the registered unit has the same hash', async () => {
    h.api.addUnit('hello.service', optionsOf(hello), { desiredState: 'launched' });
    expect(await h.fleetctl(['submit', path('hello.service')])).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(h.api.writes()).toEqual([]);
  });

  it('warns about a changed local file without --replace, and keeps the registered unit', async () => {
    h.api.addUnit('hello.service', optionsOf(helloV2));
    const r = await h.fleetctl(['submit', path('hello.service')]);
    expect(r).toMatchObject({
      code: 0,
      stdout: '',
      stderr: `WARNING: Unit hello.service in registry differs from local unit file ${path('hello.service')}. Add --replace to override.\n`,
    });
    expect(h.api.writes()).toEqual([]);
  });

  it('re-creates a changed inactive unit with --replace', async () => {
    h.api.addUnit('hello.service', optionsOf(helloV2));
    const r = await h.fleetctl(['submit', '--replace', path('hello.service')]);
    expect(r).toMatchObject({ code: 0, stdout: 'Unit hello.service inactive\n', stderr: '' });
    expect(h.api.writes()).toEqual(['PUT /fleet/v1/units/hello.service +options']);
    expect(h.api.units.get('hello.service')?.options).toEqual(optionsOf(hello));
  });

  it('does not replace a unit that is past inactive: that is for load or start', async () => {
    h.api.addUnit('hello.service', optionsOf(helloV2), { desiredState: 'launched' });
    const r = await h.fleetctl(['submit', '--replace', path('hello.service')]);
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: "Warning: can not replace Unit(hello.service) in state 'launched', use the appropriate command\n" });
    expect(h.api.writes()).toEqual([]);
  });

  it('says so when --replace finds the same unit', async () => {
    h.api.addUnit('hello.service', optionsOf(hello));
    expect(await h.fleetctl(['submit', '--replace', path('hello.service')])).toMatchObject({
      code: 0,
      stdout: 'Found same Unit(hello.service) in Registry, nothing to do\n',
    });
  });

  it('with --replace, fails for a registered unit that has no local file to compare with', async () => {
    h.api.addUnit('other.service', optionsOf(hello));
    const r = await h.fleetctl(['submit', '--replace', path('other')]);
    expect(r).toMatchObject({ code: 1, stderr: `Error creating units: error Unit ${path('other.service')} does not seem to be a template unit\n` });
  });

  it.each([
    ['missing', (p: (n: string) => string) => `unable to find Unit(missing.service) in Registry or on filesystem`],
    ['web@3', (p: (n: string) => string) => `failed getting Unit(${p('web@3.service')}) from template: unable to find template Unit(web@.service) in Registry or on filesystem`],
  ])('fails for %s, which is neither registered nor on the file system', async (arg, message) => {
    const r = await h.fleetctl(['submit', path(arg)]);
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: `Error creating units: ${message(path)}\n` });
    expect(h.api.writes()).toEqual([]);
  });

  it('stops at the first unit it cannot create; the ones before stay, unreported', async () => {
    const r = await h.fleetctl(['submit', path('hello'), path('missing')]);
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: 'Error creating units: unable to find Unit(missing.service) in Registry or on filesystem\n' });
    expect(h.api.units.has('hello.service')).toBe(true);
  });

  it.each([
    ['bad.service', '[Service\nExecStart=/bin/true\n', (p: string) => `failed getting Unit(${p}) from file: unable to find end of section`],
    ['bad$name.service', '[Service]\nExecStart=/bin/true\n', () => "invalid character '$' in unit name"],
    ['both.service', '[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nMachineID=abc\nGlobal=true\n', () => 'MachineID cannot be used with Global'],
    ['peer.service', '[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nMachineOf=db.service\nConflicts=db*\n', () => 'unresolvable requirements: peer "db.service" matches conflict "db*"'],
    ['empty.service', '', () => 'failed creating unit empty.service: googleapi: Error 409: unit empty.service does not exist and options field is empty'],
  ])("refuses %s as fleet's client does", async (name, text, message) => {
    await writeFile(path(name), text);
    const r = await h.fleetctl(['submit', path(name)]);
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: `Error creating units: ${message(path(name))}\n` });
  });

  it('adds the line of a parse error on a terminal', async () => {
    await writeFile(path('bad.service'), '[Service]\nExecStart\n');
    const r = await h.fleetctl(['submit', path('bad.service')], {}, { interactive: true });
    expect(r.stderr).toBe(
      `Error creating units: failed getting Unit(${path('bad.service')}) from file: unexpected newline encountered while parsing option name\n` +
        `${path('bad.service')}: invalid unit file: line 2: unexpected line break in an option name (expected "Name=Value")\n`,
    );
  });

  it('creates an instance from a local template next to the argument', async () => {
    await writeFile(path('web@.service'), web);
    const r = await h.fleetctl(['submit', path('web@1')]);
    expect(r).toMatchObject({ code: 0, stdout: 'Unit web@1.service inactive\n' });
    expect(h.api.units.get('web@1.service')?.options).toEqual(optionsOf(web));
  });

  it('creates an instance from the registered template first, warning when the local one differs', async () => {
    await mkdir(path('units'));
    await writeFile(path('units/web@.service'), web);
    h.api.addUnit('web@.service', optionsOf(helloV2));
    const r = await h.fleetctl(['submit', path('units/web@2.service')]);
    expect(r).toMatchObject({
      code: 0,
      stdout: 'Unit web@2.service inactive\n',
      stderr: `WARNING: Unit web@.service in registry differs from local template unit file ${path('units/web@2.service')}. Add --replace to override.\n`,
    });
    expect(h.api.units.get('web@2.service')?.options).toEqual(optionsOf(helloV2));
  });

  it('prints an empty state for a global unit, which has none (as fleet does)', async () => {
    await writeFile(path('global.service'), '[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nGlobal=true\n');
    expect(await h.fleetctl(['submit', path('global.service')])).toMatchObject({ code: 0, stdout: 'Unit global.service \n' });
  });

  it("words an API failure as fleet's client does", async () => {
    h.api.failNext = { status: 503, message: 'fleet server unable to communicate with etcd' };
    const r = await h.fleetctl(['submit', path('hello')]);
    expect(r).toMatchObject({
      code: 1,
      stderr: 'Error creating units: error retrieving Unit(hello.service) from Registry: googleapi: Error 503: fleet server unable to communicate with etcd\n',
    });
  });
});
