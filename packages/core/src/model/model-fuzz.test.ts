import fc from 'fast-check';
import { basename, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FleetError } from '../errors.js';
import { parseRequirements, requirementsProblems } from './requirements.js';
import { hashUnitFile, parseUnitFile, serializeUnitFile, storedUnitFile } from './unit-file.js';
import { parseUnitName, unitNameProblem } from './unit-name.js';

/**
 * Property-based fuzzing of what users hand in (issue 9, guarantee 6): unit names and unit files.
 * Bad input is refused with a FleetError that names the problem, never another exception, and a
 * name that is accepted never leaves the directory it is put in.
 */

const hostileName = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.stringMatching(/^[a-zA-Z0-9@._:\\/%-]{0,20}\.(service|socket|timer|mount|target|exe)?$/),
  fc.constantFrom('..', '.', '../x.service', 'x/../../y.service', '\0.service', 'a\nb.service', '.service', '@.service', 'x@.service', 'x@@y.service'),
);

describe('unit names under fuzzing', () => {
  it('are refused with a FleetError, or accepted and then resolve to a file directly in the units directory (5,000 cases)', () => {
    fc.assert(
      fc.property(hostileName, (name) => {
        const problem = unitNameProblem(name);
        if (problem !== undefined) {
          expect(problem.length).toBeGreaterThan(0);
          expect(() => parseUnitName(name)).toThrow(FleetError);
          return;
        }
        const parsed = parseUnitName(name);
        const dir = '/run/fleet/units';
        const path = resolve(dir, parsed);
        expect(path.startsWith(`${dir}/`)).toBe(true);
        expect(basename(path)).toBe(parsed);
        expect(parsed).not.toMatch(/[/\0\n]/);
      }),
      { numRuns: 5_000 },
    );
  });
});

const line = fc.oneof(
  fc.string(),
  fc.constantFrom('[Service]', '[X-Fleet]', '[Unit]', '[Install]', '[', ']', 'ExecStart=/bin/sleep 1', 'MachineID=', 'Global=true', 'Conflicts=*', 'MachineOf=x.service', 'Replaces=x.service', 'SpreadBy=rack', '# comment', '; comment', 'Key=value \\', '  continued', 'noequals', '=value'),
);
const unitText = fc.tuple(fc.array(line, { maxLength: 12 }), fc.constantFrom('\n', '\r\n', '\r')).map(([lines, eol]) => lines.join(eol));

describe('unit files under fuzzing', () => {
  it('parse or are refused with a FleetError; a parsed file stores, hashes, serialises and parses back to the same hash; X-Fleet problems are reported, not thrown (5,000 cases)', () => {
    fc.assert(
      fc.property(unitText, (text) => {
        let file;
        try {
          file = parseUnitFile(text);
        } catch (err) {
          expect(err).toBeInstanceOf(FleetError);
          expect((err as FleetError).message.length).toBeGreaterThan(0);
          return;
        }
        let stored;
        try {
          stored = storedUnitFile(file);
        } catch (err) {
          expect(err).toBeInstanceOf(FleetError);
          return;
        }
        expect(hashUnitFile(parseUnitFile(serializeUnitFile(stored)))).toBe(hashUnitFile(stored));
        const problems = requirementsProblems(file);
        expect(Array.isArray(problems)).toBe(true);
        if (problems.length === 0) expect(() => parseRequirements(parseUnitName('fuzz.service'), file)).not.toThrow();
      }),
      { numRuns: 5_000 },
    );
  });
});
