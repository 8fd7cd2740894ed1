import { describe, expect, it } from 'vitest';
import { globLiteralPrefix, globMatch, globProblem } from './glob.js';

describe('globMatch (Go path.Match)', () => {
  // Go's own table (src/path/match_test.go), minus the malformed rows, which are below.
  it.each([
    ['abc', 'abc', true],
    ['*', 'abc', true],
    ['*c', 'abc', true],
    ['a*', 'a', true],
    ['a*', 'abc', true],
    ['a*', 'ab/c', false],
    ['a*/b', 'abc/b', true],
    ['a*/b', 'a/c/b', false],
    ['a*b*c*d*e*/f', 'axbxcxdxe/f', true],
    ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true],
    ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false],
    ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false],
    ['a*b?c*x', 'abxbbxdbxebxczzx', true],
    ['a*b?c*x', 'abxbbxdbxebxczzy', false],
    ['ab[c]', 'abc', true],
    ['ab[b-d]', 'abc', true],
    ['ab[e-g]', 'abc', false],
    ['ab[^c]', 'abc', false],
    ['ab[^b-d]', 'abc', false],
    ['ab[^e-g]', 'abc', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'ab', false],
    ['a?b', 'a☺b', true],
    ['a[^a]b', 'a☺b', true],
    ['a???b', 'a☺b', false],
    ['a[^a][^a][^a]b', 'a☺b', false],
    ['[a-ζ]*', 'α', true],
    ['*[a-ζ]', 'A', false],
    ['a?b', 'a/b', false],
    ['a*b', 'a/b', false],
    ['[\\]a]', ']', true],
    ['[\\-]', '-', true],
    ['[x\\-]', 'x', true],
    ['[x\\-]', '-', true],
    ['[x\\-]', 'z', false],
    ['[\\-x]', 'x', true],
    ['[\\-x]', '-', true],
    ['[\\-x]', 'a', false],
    ['*x', 'xxx', true],
  ])('Go table: %j against %j is %s', (pattern, name, expected) => {
    expect(globMatch(pattern, name)).toBe(expected);
    expect(globProblem(pattern)).toBeUndefined();
  });

  it.each([
    ['a star matches any run within a name', 'web*', 'web@1.service', true],
    ['a star matches the empty run', 'web*.service', 'web.service', true],
    ['the whole name must match, not a substring', 'web', 'web.service', false],
    ['a question mark matches exactly one character', 'web@?.service', 'web@12.service', false],
    ['classes match one character from a range', 'db@[0-9].service', 'db@7.service', true],
    ['"!" does not negate, unlike shells', '[!a].service', 'b.service', false],
    ['"!" is an ordinary class member', '[!a].service', '!.service', true],
    ['"^" negates a class', '[^a].service', 'b.service', true],
    ['a reversed range matches nothing', '[z-a].service', 'm.service', false],
    ['a negated reversed range matches any one character', '[^z-a].service', 'm.service', true],
    ['an escaped bracket is literal', '\\[x].service', '[x].service', true],
    ['a backslash escapes an ordinary character too', '\\a.service', 'a.service', true],
    ['regexp syntax in a pattern is literal', 'a.(b)+{c}|$.service', 'a.(b)+{c}|$.service', true],
    ['"." is not a wildcard', 'a.service', 'abservice', false],
    ['"]" outside a class is literal', 'a].service', 'a].service', true],
    ['matching is case-sensitive', 'Web*', 'web.service', false],
  ])('%s (%j against %j)', (_, pattern, name, expected) => {
    expect(globMatch(pattern, name)).toBe(expected);
  });

  it.each([
    ['[]a]', ']', 'unescaped "]" at offset 1'],
    ['[-]', '-', 'unescaped "-" at offset 1'],
    ['[x-]', 'x', 'unescaped "]" at offset 3'],
    ['[-x]', 'x', 'unescaped "-" at offset 1'],
    ['\\', 'a', 'trailing "\\" escapes nothing'],
    ['x\\', 'x\\', 'trailing "\\" escapes nothing'],
    ['[a-b-c]', 'a', 'unescaped "-" at offset 4'],
    ['[', 'a', '"[" at offset 0 is never closed'],
    ['[^', 'a', '"[" at offset 0 is never closed'],
    ['[^bc', 'a', '"[" at offset 0 is never closed'],
    ['a[', 'a', '"[" at offset 1 is never closed'],
    ['a[', 'ab', '"[" at offset 1 is never closed'],
    ['a/b[', 'x', '"[" at offset 3 is never closed'],
    ['[^]', '^', 'unescaped "]" at offset 2'],
    ['[a\\', 'a', '"[" at offset 0 is never closed'],
    ['*[a', 'xa', '"[" at offset 1 is never closed'],
  ])('malformed %j matches nothing, not even %j (%s)', (pattern, name, problem) => {
    expect(globMatch(pattern, name)).toBe(false);
    expect(globProblem(pattern)).toContain(problem);
  });

  it('gives the same answer from the cache', () => {
    for (let i = 0; i < 3; i++) {
      expect(globMatch('cache-test@*.service', 'cache-test@1.service')).toBe(true);
      expect(globMatch('cache-test@*.service', 'other.service')).toBe(false);
      expect(globProblem('cache-test[')).toBeDefined();
    }
  });
});

describe('globLiteralPrefix', () => {
  it.each([
    ['a plain name is all prefix', 'web.service', 'web.service'],
    ['stops at a star', 'web@*.service', 'web@'],
    ['stops at a question mark', 'db?.service', 'db'],
    ['stops at a class', 'db[0-9].service', 'db'],
    ['is empty for a leading star', '*.service', ''],
    ['resolves escapes', 'a\\*b*', 'a*b'],
    ['stops at a trailing backslash', 'ab\\', 'ab'],
  ])('%s: %j → %j', (_, pattern, prefix) => {
    expect(globLiteralPrefix(pattern)).toBe(prefix);
  });
});
