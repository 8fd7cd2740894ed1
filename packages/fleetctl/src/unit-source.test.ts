import type { ApiUnit } from './api-client.js';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findUnitSource, readLocalFile, resolveUnitSource, unitNameFromArg, unitPathFromArg } from './unit-source.js';
import type { UnitSourceDeps } from './unit-source.js';

const helloText = '[Unit]\nDescription=Hello\n\n[Service]\nExecStart=/bin/echo hello\n';
const templateText = '[Service]\nExecStart=/bin/echo %i\n\n[X-Fleet]\nConflicts=web@*.service\n';

let dir: string;
const registry = new Map<string, ApiUnit>();
const deps: UnitSourceDeps = {
  client: { getUnit: async (name) => registry.get(name) },
  readFile: readLocalFile,
};

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fleetctl-source-'));
  registry.clear();
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('unitNameFromArg', () => {
  it.each([
    ['hello', 'hello.service'],
    ['hello.service', 'hello.service'],
    ['units/web@1.service', 'web@1.service'],
    ['./backup.timer', 'backup.timer'],
    ['/abs/path/db', 'db.service'],
    ['my.app', 'my.app.service'],
    // fleet accepts several "@": the instance is everything after the first one.
    ['foo@bar@baz.service', 'foo@bar@baz.service'],
  ])('%s names %s', (arg, name) => {
    expect(unitNameFromArg(arg)).toBe(name);
  });

  it.each([
    ['bad name', 'name may only contain letters, digits, ":", "_", ".", "@", "-" and "\\"'],
    ['@foo.service', 'name cannot start with "@"'],
    ['foo@1.device', 'cannot be templates'],
    ['x'.repeat(300), 'longer than 256'],
  ])('rejects %j', (arg, rule) => {
    expect(() => unitNameFromArg(arg)).toThrow(rule);
  });

  it('appends .service to the local path when the argument has no unit suffix', () => {
    expect(unitPathFromArg('units/hello')).toBe('units/hello.service');
    expect(unitPathFromArg('units/hello.socket')).toBe('units/hello.socket');
  });
});

describe('resolveUnitSource', () => {
  it('reads and parses a local unit file named by path', async () => {
    await writeFile(join(dir, 'hello.service'), helloText);
    const source = await resolveUnitSource(join(dir, 'hello.service'), deps);
    expect(source.name).toBe('hello.service');
    expect(source.origin).toEqual({ kind: 'file', path: join(dir, 'hello.service') });
    expect(source.file).toEqual([
      { section: 'Unit', name: 'Description', value: 'Hello' },
      { section: 'Service', name: 'ExecStart', value: '/bin/echo hello' },
    ]);
  });

  it('finds hello.service for the argument "hello"', async () => {
    await writeFile(join(dir, 'hello.service'), helloText);
    const source = await resolveUnitSource(join(dir, 'hello'), deps);
    expect(source.name).toBe('hello.service');
    expect(source.origin.kind).toBe('file');
  });

  it('prefers the instance file itself over any template', async () => {
    await writeFile(join(dir, 'web@1.service'), helloText);
    await writeFile(join(dir, 'web@.service'), templateText);
    const source = await resolveUnitSource(join(dir, 'web@1.service'), deps);
    expect(source.origin.kind).toBe('file');
  });

  it('takes an instance from the template registered in the API first', async () => {
    await writeFile(join(dir, 'web@.service'), templateText);
    const options = [{ section: 'Service', name: 'ExecStart', value: '/bin/registered' }];
    registry.set('web@.service', { name: 'web@.service', options, desiredState: 'inactive', currentState: 'inactive' });
    const source = await resolveUnitSource(join(dir, 'web@1.service'), deps);
    expect(source).toEqual({ name: 'web@1.service', file: options, origin: { kind: 'registry-template', template: 'web@.service' } });
  });

  it('falls back to a local template next to the argument', async () => {
    await mkdir(join(dir, 'units'));
    await writeFile(join(dir, 'units', 'web@.service'), templateText);
    const source = await resolveUnitSource(join(dir, 'units', 'web@2'), deps);
    expect(source.name).toBe('web@2.service');
    expect(source.origin).toEqual({ kind: 'local-template', template: 'web@.service', path: join(dir, 'units', 'web@.service') });
    expect(source.file).toContainEqual({ section: 'X-Fleet', name: 'Conflicts', value: 'web@*.service' });
  });

  it('says where it looked when nothing is found', async () => {
    await expect(resolveUnitSource(join(dir, 'nope'), deps)).rejects.toThrow(
      `unable to find unit nope.service in the registry or at ${join(dir, 'nope.service')}`,
    );
    await expect(resolveUnitSource(join(dir, 'web@3.service'), deps)).rejects.toThrow(
      'unable to find unit web@3.service or its template web@.service in the registry or on the filesystem',
    );
    await expect(findUnitSource(join(dir, 'nope'), deps)).resolves.toBeUndefined();
  });

  it('names the file and line of a unit file that does not parse', async () => {
    await writeFile(join(dir, 'broken.service'), '[Service]\nExecStart\n');
    await expect(resolveUnitSource(join(dir, 'broken.service'), deps)).rejects.toThrow(
      `${join(dir, 'broken.service')}: invalid unit file: line 2`,
    );
  });

  it('rejects an invalid name before touching the file system', async () => {
    await expect(resolveUnitSource(join(dir, 'bad name.service'), deps)).rejects.toThrow('invalid unit name');
  });
});
