import { describe, expect, it } from 'vitest';
import { isTemplate, parseUnitName, templateOf, unitNameProblem, withDefaultSuffix } from './unit-name.js';

describe('unit names', () => {
  it.each([
    'hello.service', 'foo@1.service', 'foo@.service', 'a:b_c-d.e.socket', 'web@db-a.service', 'x.timer', `${'a'.repeat(248)}.service`,
  ])('accepts %s', (name) => {
    expect(unitNameProblem(name)).toBeUndefined();
  });

  it.each([
    ['', 'empty'],
    ['../evil.service', 'may only contain'],
    ['a/b.service', 'may only contain'],
    ['/etc/passwd.service', 'may only contain'],
    ['..', 'cannot be a path'],
    ['hello', 'suffix'],
    ['hello.exe', 'unknown unit type'],
    ['@foo.service', 'cannot start with "@"'],
    ['foo@.device', 'cannot be templates'],
    ['a@b@c.service', 'at most one "@"'],
    ['hello world.service', 'may only contain'],
    [`${'a'.repeat(250)}.service`, 'longer than 256'],
  ])('rejects %j (%s)', (name, fragment) => {
    expect(unitNameProblem(name)).toContain(fragment);
    expect(() => parseUnitName(name)).toThrow(/invalid unit name/);
  });

  it('appends .service only when there is no unit suffix', () => {
    expect(withDefaultSuffix('hello')).toBe('hello.service');
    expect(withDefaultSuffix('hello.socket')).toBe('hello.socket');
    expect(withDefaultSuffix('v1.2')).toBe('v1.2.service');
  });

  it('knows templates and their instances', () => {
    expect(isTemplate(parseUnitName('foo@.service'))).toBe(true);
    expect(isTemplate(parseUnitName('foo@1.service'))).toBe(false);
    expect(templateOf(parseUnitName('foo@1.service'))).toBe('foo@.service');
    expect(templateOf(parseUnitName('foo.service'))).toBeUndefined();
  });
});
