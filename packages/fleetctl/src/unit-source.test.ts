import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { unitFileErrorText } from './fleet-text.js';
import { appendDefaultType, localTemplatePath, readLocalFile, readLocalUnit, templateNameOf, unitNameMangle } from './unit-source.js';
import { optionsOf } from './testing/harness.js';

const helloText = '[Unit]\nDescription=Hello\n\n[Service]\nExecStart=/bin/echo hello\n';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fleetctl-source-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('unitNameMangle', () => {
  it.each([
    ['hello', 'hello.service'],
    ['hello.service', 'hello.service'],
    ['units/web@1.service', 'web@1.service'],
    ['./backup.timer', 'backup.timer'],
    ['/abs/path/db', 'db.service'],
    ['my.app', 'my.app.service'],
    ['foo@bar@baz.service', 'foo@bar@baz.service'],
    // Not validated: a bad name is for the API (or the checks before a create) to refuse, as in fleet.
    ['bad name', 'bad name.service'],
    ['@foo.service', '@foo.service'],
  ])('%s names %s', (arg, name) => {
    expect(unitNameMangle(arg)).toBe(name);
  });

  it('appends .service to the path of an argument without a unit type, where fleetctl looks for the file', () => {
    expect(appendDefaultType('units/hello')).toBe('units/hello.service');
    expect(appendDefaultType('units/hello.socket')).toBe('units/hello.socket');
  });

  it('finds the template of an instance, next to the argument', () => {
    expect(templateNameOf('web@1.service')).toBe('web@.service');
    expect(templateNameOf('web@.service')).toBeUndefined();
    expect(templateNameOf('hello.service')).toBeUndefined();
    expect(localTemplatePath('units/web@1.service', 'web@.service')).toBe('units/web@.service');
  });
});

describe('readLocalUnit', () => {
  it('reads and parses a local unit file', async () => {
    await writeFile(join(dir, 'hello.service'), helloText);
    expect(await readLocalUnit(join(dir, 'hello.service'), readLocalFile)).toEqual({ kind: 'found', file: optionsOf(helloText) });
  });

  it('says when there is no such file (also below something that is not a folder)', async () => {
    expect(await readLocalUnit(join(dir, 'nope.service'), readLocalFile)).toEqual({ kind: 'missing' });
    await writeFile(join(dir, 'file'), 'x');
    expect(await readLocalUnit(join(dir, 'file', 'nope.service'), readLocalFile)).toEqual({ kind: 'missing' });
  });

  it.each([
    ['an unclosed section', '[Service\nExecStart=/bin/true\n', 'unable to find end of section', 1],
    ['text after a section', '[Service] x\nExecStart=/bin/true\n', 'found garbage after section name : [120]', 1],
    ['a name without "="', '[Service]\nExecStart\n', 'unexpected newline encountered while parsing option name', 2],
    ['the end of the file in a name', '[Service]\nExecStart', 'EOF', 2],
    ['a line of 3000 bytes', `[Service]\nExecStart=${'x'.repeat(3000)}\n`, 'line too long (max 2048 bytes)', 2],
  ])('words %s as go-systemd does, and keeps our message with its line', async (_what, text, message, line) => {
    await writeFile(join(dir, 'bad.service'), text);
    const found = await readLocalUnit(join(dir, 'bad.service'), readLocalFile);
    expect(found).toMatchObject({ kind: 'invalid', message });
    expect(found.kind === 'invalid' ? found.detail : undefined).toMatch(new RegExp(`^${join(dir, 'bad.service')}: invalid unit file: line ${line}: `));
  });

  it("words a file it cannot read as Go's os package does", async () => {
    await mkdir(join(dir, 'folder.service'));
    expect(await readLocalUnit(join(dir, 'folder.service'), readLocalFile)).toMatchObject({ kind: 'invalid', message: `read ${join(dir, 'folder.service')}: is a directory` });
    const long = join(dir, `${'y'.repeat(300)}.service`);
    expect(await readLocalUnit(long, readLocalFile)).toMatchObject({ kind: 'invalid', message: `open ${long}: file name too long` });
  });

});

describe('unitFileErrorText', () => {
  it('leaves a message it does not know as it is', () => {
    expect(unitFileErrorText('invalid unit file: line 3: something new')).toBe('something new');
  });
});
