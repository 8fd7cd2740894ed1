import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashUnitFile, parseUnitFile, serializeUnitFile, unitFileProblem } from './unit-file.js';

describe('unit files', () => {
  it('keeps order and repeated names, skips comments and text before the first section', () => {
    const file = parseUnitFile('junk\n# c\n[Unit]\nDescription = Hello \n\n[Service]\n; c\nExecStartPre=-/bin/a\nExecStartPre=-/bin/b\n[X-Fleet]\nConflicts=a*\n');
    expect(file).toEqual([
      { section: 'Unit', name: 'Description', value: 'Hello' },
      { section: 'Service', name: 'ExecStartPre', value: '-/bin/a' },
      { section: 'Service', name: 'ExecStartPre', value: '-/bin/b' },
      { section: 'X-Fleet', name: 'Conflicts', value: 'a*' },
    ]);
  });

  it('serialises like go-systemd and hashes the serialised bytes with SHA1', () => {
    const file = parseUnitFile('[Unit]\nDescription=Hello\n[Service]\nExecStart=/bin/sleep 1\n[Unit]\nAfter=x\n');
    const text = serializeUnitFile(file);
    expect(text).toBe('[Unit]\nDescription=Hello\nAfter=x\n\n[Service]\nExecStart=/bin/sleep 1\n');
    expect(hashUnitFile(file)).toBe(createHash('sha1').update(text).digest('hex'));
  });

  it('keeps the backslash and line break of continued lines', () => {
    expect(parseUnitFile('[Service]\nExecStart=/bin/sh -c \\\n  "echo hi"\n')).toEqual([
      { section: 'Service', name: 'ExecStart', value: '/bin/sh -c \\\n"echo hi"' },
    ]);
  });

  it.each([
    ['[Unit] trailing\n', /line 1: text after the section header/],
    ['[Unit]\nNoEquals\n', /line 2: expected "Name=Value"/],
    [`[Unit]\nDescription=${'x'.repeat(2048)}\n`, /line 2: line too long/],
    ['[Unit\n', /line 1: section header has no closing/],
  ])('rejects %j with its line number', (text, message) => {
    expect(() => parseUnitFile(text)).toThrow(message);
  });

  it('validates options from untrusted JSON', () => {
    expect(unitFileProblem([{ section: 'Unit', name: 'A', value: 'b' }])).toBeUndefined();
    expect(unitFileProblem('x')).toBe('options must be an array');
    expect(unitFileProblem([{ section: 'Unit', name: 'A' }])).toBe('options[0].value must be a string');
    expect(unitFileProblem([{ section: 'Unit', name: 'A=B', value: '' }])).toBe('options[0].name is not a valid option name');
  });
});
