import { describe, expect, it } from 'vitest';
import { unitNameError, unitOptionsError } from './fleet-validate.js';
import { optionsOf } from './testing/harness.js';

describe('unitNameError (fleet client-side name check)', () => {
  it.each([
    ['hello.service', undefined],
    ['web@1.service', undefined],
    ['', 'unit name cannot be empty'],
    [`${'a'.repeat(250)}.service`, 'unit name exceeds maximum length (256)'],
    ['noDot', 'unit name must contain "."'],
    ['trailing.', 'unit name cannot end in "."'],
    ['x.bogus', 'invalid unit type: "bogus"'],
    ['fc-a@b.device', 'invalid unit type for template: "device"'],
    ['bad!x.service', "invalid character '!' in unit name"],
    ["it's.service", "invalid character '\\'' in unit name"],
    ['@x.service', 'unit name cannot start in "@"'],
  ])('%j: %s', (name, expected) => {
    expect(unitNameError(name)).toBe(expected);
  });
});

describe('unitOptionsError (fleet client-side [X-Fleet] check, in its order)', () => {
  const file = (...lines: string[]) => optionsOf(`[Service]\nExecStart=/bin/true\n\n[X-Fleet]\n${lines.join('\n')}\n`);
  it.each([
    [['MachineOf=db.service'], undefined],
    [['Global=true', 'Conflicts=x*'], undefined],
    [['Global=false', 'MachineOf=a.service'], undefined],
    [['MachineOf=x.service', 'Conflicts=x.*'], 'unresolvable requirements: peer "x.service" matches conflict "x.*"'],
    [['MachineOf=x.service', 'Replaces=x.*'], 'unresolvable requirements: peer "x.service" matches replace "x.*"'],
    [['MachineOf=x.service', 'Replaces=x.*', 'Conflicts=x*'], 'unresolvable requirements: peer "x.service" matches conflict "x*"'],
    [['MachineID=abc', 'MachineOf=x.service', 'Global=true'], 'MachineID cannot be used with Peers'],
    [['MachineID=a', 'Replaces=y', 'Conflicts=z'], 'MachineID cannot be used with Conflicts'],
    [['MachineID=a', 'Global=true', 'Replaces=y'], 'MachineID cannot be used with Global'],
    [['MachineID=a', 'Replaces=y'], 'MachineID cannot be used with Replaces'],
    [['X-ConditionMachineOf=a.service', 'Global=true'], 'Global cannot be used with Peers'],
    [['Global=true', 'Replaces=y'], 'Global cannot be used with Replaces'],
    [['Conflicts=y', 'Replaces=z'], 'Conflicts cannot be used with Replaces'],
  ])('%j: %s', (lines, expected) => {
    expect(unitOptionsError('u.service', file(...lines))).toBe(expected);
  });
});
