import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseUnitFile, parseUnitName } from '@fleet/core/model';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { goQuote, logLine } from './fleet-text.js';
import { unknownRequirementWarning } from './requirement-warnings.js';
import { optionsOf, startHarness, type Harness } from './testing/harness.js';

// fleet's fleetctl, measured: it prints this line on stderr whenever it creates a unit (submit,
// load, start, --replace, template instances) whose [X-Fleet] holds an option it does not know, and
// goes on: the unit is created. Nothing is printed for a unit that already exists unchanged.

const at = new Date(2026, 11, 2, 3, 37, 8); // local time, as Go's log prints it
const warning = (unit: string, key: string): string =>
  `2026/12/02 03:37:08 WARN fleetctl.go:674: Unit ${unit}: unrecognized requirement in [X-Fleet] section: "${key}"\n`;

describe('unknownRequirementWarning', () => {
  it.each<[string, string, string | undefined]>([
    ['no [X-Fleet] section', '[Service]\nExecStart=/bin/true\n', undefined],
    ['only known options, deprecated and ours included', '[X-Fleet]\nX-ConditionMachineBootID=a\nX-Conflicts=b*\nSpreadBy=rack\n', undefined],
    ['an unknown option', '[X-Fleet]\nFoo=bar\n', warning('a.service', 'Foo')],
    ['a known option in the wrong case', '[X-Fleet]\nmachineid=abc\n', warning('a.service', 'machineid')],
    ['one line for several unknown options, naming the first', '[X-Fleet]\nFoo=1\nBar=2\n', warning('a.service', 'Foo')],
    ['unknown options of other sections are not fleet\'s business', '[Service]\nFoo=1\n', undefined],
  ])('%s', (_, text, expected) => {
    expect(unknownRequirementWarning(parseUnitName('a.service'), parseUnitFile(text), { now: () => at.getTime() })).toBe(expected);
  });

  it('stamps the local time as Go\'s log does', () => {
    expect(logLine({ now: () => new Date(2026, 0, 5, 7, 8, 9).getTime() }, 'WARN', 'x.go:1', 'm')).toBe('2026/01/05 07:08:09 WARN x.go:1: m\n');
  });

  it.each([
    ['Foo', '"Foo"'],
    ['a"b\\c', '"a\\"b\\\\c"'],
    ['tab\there', '"tab\\there"'],
    ['\x01\x7f', '"\\x01\\x7f"'],
    ['é☃', '"é☃"'],
    ['\u00ad\ufeff', '"\\u00ad\\ufeff"'],
    ['\u{1d400}\u{e0001}', '"\u{1d400}\\U000e0001"'],
  ])('quotes %j as Go\'s %%q does', (text, quoted) => {
    expect(goQuote(text)).toBe(quoted);
  });
});

describe('fleetctl warns about unknown [X-Fleet] options when it creates a unit', () => {
  const unknown = '[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nFoo=bar\n';
  const line = (unit: string): RegExp => new RegExp(`^\\d{4}/\\d\\d/\\d\\d \\d\\d:\\d\\d:\\d\\d WARN fleetctl\\.go:674: Unit ${unit.replace(/[.@]/g, '\\$&')}: unrecognized requirement in \\[X-Fleet\\] section: "Foo"\\n$`);
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
    await writeFile(join(h.dir, 'odd.service'), unknown);
    await writeFile(join(h.dir, 'odd@.service'), unknown);
  });
  afterEach(async () => {
    await h.close();
  });

  it('on submit, and the unit is created', async () => {
    const r = await h.fleetctl(['submit', join(h.dir, 'odd.service')]);
    expect(r).toMatchObject({ code: 0, stdout: 'Unit odd.service inactive\n' });
    expect(r.stderr).toMatch(line('odd.service'));
    expect(h.api.units.get('odd.service')?.options).toEqual(optionsOf(unknown));
  });

  it('not when the unit exists unchanged', async () => {
    h.api.addUnit('odd.service', optionsOf(unknown));
    expect(await h.fleetctl(['submit', join(h.dir, 'odd.service')])).toMatchObject({ code: 0, stderr: '' });
  });

  it('on --replace of a changed unit', async () => {
    h.api.addUnit('odd.service', optionsOf('[Service]\nExecStart=/bin/false\n'));
    const r = await h.fleetctl(['submit', '--replace', join(h.dir, 'odd.service')]);
    expect(r).toMatchObject({ code: 0, stdout: 'Unit odd.service inactive\n' });
    expect(r.stderr).toMatch(line('odd.service'));
  });

  it('on load of a new unit, and for an instance made from a local template, by the instance\'s name', async () => {
    const r = await h.fleetctl(['load', '--no-block', join(h.dir, 'odd.service'), join(h.dir, 'odd@1.service')]);
    expect(r.code).toBe(0);
    expect(r.stderr.split('\n').filter((l) => l !== '').map((l) => `${l}\n`)).toEqual([
      expect.stringMatching(line('odd.service')),
      expect.stringMatching(line('odd@1.service')),
    ]);
  });
});

describe('fleetctl compares a local file with the registry in the form the registry stores', () => {
  it('a file ending in a backslash is unchanged once submitted (no --replace needed)', async () => {
    const h = await startHarness();
    try {
      const text = '[Service]\nExecStart=/bin/echo a \\';
      await writeFile(join(h.dir, 'tail.service'), text);
      h.api.addUnit('tail.service', optionsOf(`${text}\n`)); // what fleet's API hands back for it
      expect(await h.fleetctl(['submit', join(h.dir, 'tail.service')])).toMatchObject({ code: 0, stdout: '', stderr: '' });
    } finally {
      await h.close();
    }
  });
});
