import { describe, expect, it } from 'vitest';
import { isTemplate, parseUnitName, templateOf, unitNameParts, unitNameProblem, unitSuffixes, withDefaultSuffix } from './unit-name.js';

describe('unit names', () => {
  it.each([
    'hello.service', 'foo@1.service', 'foo@.service', 'a:b_c-d.e.socket', 'web@db-a.service', 'x.timer', `${'a'.repeat(248)}.service`,
    // fleet's TestNamedUnit names
    'foo@bar@baz.service', 'foo.1@.service', 'foo.1@2.service', 'ssh@.socket', 'ssh@1.socket',
    'foo@@.service', 'a@b.path', 'a@b.target', 'a@b.timer',
    // systemd's escaped names: fleet accepts "\\" (measured), FLEET.md's character list omits it
    'foo\\x2dbar.service', 'mnt-data\\x2d1.mount', 'x@a\\x20b.service',
    ...unitSuffixes.map((suffix) => `unit.${suffix}`),
  ])('accepts %s', (name) => {
    expect(unitNameProblem(name)).toBeUndefined();
    expect(parseUnitName(name)).toBe(name);
  });

  it.each([
    ['', 'empty'],
    ['../evil.service', 'may only contain'],
    ['a/b.service', 'may only contain'],
    ['/etc/passwd.service', 'may only contain'],
    ['..', 'cannot be a path'],
    ['.', 'suffix'],
    ['hello', 'suffix'],
    ['.service', 'suffix'], // fleet's code accepts it, its documentation and systemd do not
    ['hello.', 'unknown unit type'],
    ['hello.exe', 'unknown unit type'],
    ['hello.link', 'unknown unit type'],
    ['hello.SERVICE', 'unknown unit type'],
    ['@foo.service', 'cannot start with "@"'],
    ['@.service', 'cannot start with "@"'],
    ['foo@.device', 'cannot be templates'],
    ['foo@1.mount', 'cannot be templates'],
    ['a@b@c.swap', 'cannot be templates'],
    ['hello world.service', 'may only contain'],
    ['tab\t.service', 'may only contain'],
    ['nul\0.service', 'may only contain'],
    ['héllo.service', 'may only contain'],
    [`${'a'.repeat(249)}.service`, 'longer than 256'],
  ])('rejects %j (%s)', (name, fragment) => {
    expect(unitNameProblem(name)).toContain(fragment);
    expect(() => parseUnitName(name)).toThrow(/invalid unit name/);
  });

  it('allows exactly 256 characters', () => {
    expect(unitNameProblem(`${'a'.repeat(248)}.service`)).toBeUndefined();
    expect(`${'a'.repeat(248)}.service`).toHaveLength(256);
  });

  it.each([
    ['hello', 'hello.service'],
    ['hello.socket', 'hello.socket'],
    ['hello.service', 'hello.service'],
    ['foo.link', 'foo.link.service'],
    ['v1.2', 'v1.2.service'],
    ['foo@1', 'foo@1.service'],
    ['foo.target', 'foo.target'],
  ])('appends .service only when there is no unit suffix: %s → %s', (name, expected) => {
    expect(withDefaultSuffix(name)).toBe(expected);
  });

  // fleet's unit/unit_test.go TestNamedUnit
  it.each([
    ['foo.service', 'foo', undefined, 'service', undefined, false],
    ['foo@.service', 'foo', '', 'service', undefined, true],
    ['foo@bar.service', 'foo', 'bar', 'service', 'foo@.service', false],
    ['foo@bar@baz.service', 'foo', 'bar@baz', 'service', 'foo@.service', false],
    ['foo.1@.service', 'foo.1', '', 'service', undefined, true],
    ['foo.1@2.service', 'foo.1', '2', 'service', 'foo.1@.service', false],
    ['ssh@.socket', 'ssh', '', 'socket', undefined, true],
    ['ssh@1.socket', 'ssh', '1', 'socket', 'ssh@.socket', false],
  ])('splits %s into prefix, instance and suffix', (name, prefix, instance, suffix, template, template_) => {
    const unit = parseUnitName(name);
    expect(unitNameParts(unit)).toEqual({ prefix, instance, suffix });
    expect(templateOf(unit)).toBe(template);
    expect(isTemplate(unit)).toBe(template_);
  });
});
