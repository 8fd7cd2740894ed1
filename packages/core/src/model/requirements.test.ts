import { describe, expect, it } from 'vitest';
import { noRequirements, parseRequirements, requirementsProblems, unknownRequirementOptions } from './requirements.js';
import type { Requirements } from './requirements.js';
import { parseUnitFile } from './unit-file.js';
import type { UnitFile } from './unit-file.js';
import { parseUnitName } from './unit-name.js';
import type { UnitName } from './unit-name.js';

/** A unit file whose [X-Fleet] section holds `lines`, after an unrelated section. */
function fleetFile(lines: readonly string[]): UnitFile {
  return parseUnitFile(['[Unit]', 'Description=test', '[X-Fleet]', ...lines, ''].join('\n'));
}

function parse(lines: readonly string[], name = 'web.service'): Requirements {
  return parseRequirements(parseUnitName(name), fleetFile(lines));
}

function problems(lines: readonly string[]): string[] {
  return requirementsProblems(fleetFile(lines));
}

const metadata = (entries: Record<string, string[]>): ReadonlyMap<string, readonly string[]> => new Map(Object.entries(entries));

describe('parseRequirements', () => {
  it('gives no requirements to a unit without [X-Fleet]', () => {
    const file = parseUnitFile('[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\nConflicts=x*\n');
    expect(parseRequirements(parseUnitName('a.service'), file)).toEqual(noRequirements);
  });

  it.each<[string, string[], Partial<Requirements>]>([
    ['MachineID= pins the unit to a machine', ['MachineID=abc123'], { machineId: 'abc123' }],
    ['MachineOf= names a peer', ['MachineOf=db.service'], { machineOf: ['db.service' as UnitName] }],
    ['MachineMetadata= requires a key=value', ['MachineMetadata=region=us-east'], { metadata: metadata({ region: ['us-east'] }) }],
    ['Conflicts= holds a glob', ['Conflicts=web*'], { conflicts: ['web*'] }],
    ['Replaces= holds a glob', ['Replaces=old.service'], { replaces: ['old.service'] }],
    ['Global=true makes the unit global', ['Global=true'], { global: true }],
    ['ConflictsScope= names a metadata key', ['Conflicts=web*', 'ConflictsScope=rack'], { conflicts: ['web*'], conflictsScope: 'rack' }],
    ['SpreadBy= names a metadata key', ['SpreadBy=zone'], { spreadBy: 'zone' }],
    ['AtMostOnce=true marks the unit at-most-once', ['AtMostOnce=true'], { atMostOnce: true }],
    ['AtMostOnce= takes fleet\'s boolean words', ['AtMostOnce=yes'], { atMostOnce: true }],
    ['AtMostOnce=false is the default', ['AtMostOnce=false'], {}],
    ['AtMostOnce=: the last value wins', ['AtMostOnce=true', 'AtMostOnce=false'], {}],
    ['AtMostOnce= combines with placement rules', ['AtMostOnce=1', 'Conflicts=web*'], { atMostOnce: true, conflicts: ['web*'] }],
    ['deprecated X-ConditionMachineID= is MachineID=', ['X-ConditionMachineID=abc123'], { machineId: 'abc123' }],
    ['deprecated X-ConditionMachineOf= is MachineOf=', ['X-ConditionMachineOf=db.service'], { machineOf: ['db.service' as UnitName] }],
    ['deprecated X-ConditionMachineMetadata= is MachineMetadata=', ['X-ConditionMachineMetadata=disk=ssd'], { metadata: metadata({ disk: ['ssd'] }) }],
    ['deprecated X-Conflicts= is Conflicts=', ['X-Conflicts=web*'], { conflicts: ['web*'] }],
    ['deprecated X-ConditionMachineBootID= is accepted and ignored', ['X-ConditionMachineBootID=abc'], {}],
    ['unknown options are skipped', ['Foo=bar'], {}],
    ['option names are case-sensitive', ['global=true'], {}],
    ['modern and deprecated spellings add up', ['X-Conflicts=a*', 'Conflicts=b*'], { conflicts: ['a*', 'b*'] }],
    ['repeated multi-valued options add up', ['MachineOf=a.service', 'MachineOf=b.service'], { machineOf: ['a.service', 'b.service'] as UnitName[] }],
    ['words are split on whitespace', ['Conflicts=a*  b*\tc*'], { conflicts: ['a*', 'b*', 'c*'] }],
    ['quoted words keep their spaces and lose their quotes', ['MachineMetadata="region=us-east-1" "diskType=SSD"'], { metadata: metadata({ region: ['us-east-1'], diskType: ['SSD'] }) }],
    ['a quoted word may hold whitespace', ['MachineMetadata="room=server room 2"'], { metadata: metadata({ room: ['server room 2'] }) }],
    ['empty quoted words are dropped', ['Conflicts="" a*'], { conflicts: ['a*'] }],
    ['an unterminated quote runs to the end', ['Conflicts=a* "b* c*'], { conflicts: ['a*', 'b* c*'] }],
    ['repeated words count once', ['Conflicts=a* a*', 'Conflicts=a*'], { conflicts: ['a*'] }],
    ['single-valued options lose surrounding quotes', ['Global="true"', 'SpreadBy="zone"'], { global: true, spreadBy: 'zone' }],
    ['MachineID=: the last value wins', ['MachineID=aaa', 'MachineID=bbb'], { machineId: 'bbb' }],
    ['MachineID=: the last value wins across spellings', ['MachineID=aaa', 'X-ConditionMachineID=bbb'], { machineId: 'bbb' }],
    ['SpreadBy=: the last value wins', ['SpreadBy=zone', 'SpreadBy=rack'], { spreadBy: 'rack' }],
    ['an empty MachineID= means none', ['MachineID='], {}],
    ['MachineOf= names that are not unit names are kept (no unit has them: the unit waits, as in fleet)', ['MachineOf=db ../x.service ok.service'], { machineOf: ['db', '../x.service', 'ok.service'] as UnitName[] }],
    ['MachineOf= may name the unit itself (it then waits for itself, as in fleet)', ['MachineOf=%n'], { machineOf: ['web.service' as UnitName] }],
    ['a Global= value that is not a boolean is false, as in fleet', ['Global=maybe'], { global: false }],
    ['malformed globs are kept (they match nothing)', ['Conflicts=db['], { conflicts: ['db['] }],
  ])('%s', (_, lines, expected) => {
    expect(parse(lines)).toEqual({ ...noRequirements, ...expected });
  });

  it.each<[string, string[], Record<string, string[]>]>([
    ['values of one key are alternatives (OR)', ['MachineMetadata=region=us region=eu'], { region: ['us', 'eu'] }],
    ['different keys must all hold (AND)', ['MachineMetadata=region=us', 'MachineMetadata=disk=ssd'], { region: ['us'], disk: ['ssd'] }],
    ['repeated lines of one key are alternatives', ['MachineMetadata=region=us', 'X-ConditionMachineMetadata=region=eu'], { region: ['us', 'eu'] }],
    ['a repeated value counts once', ['MachineMetadata=region=us region=us'], { region: ['us'] }],
    ['a pair splits at its first "="', ['MachineMetadata=k=a=b'], { k: ['a=b'] }],
    ['a pair with an empty key is ignored', ['MachineMetadata==us region=eu'], { region: ['eu'] }],
    ['a pair with an empty value is ignored', ['MachineMetadata=region= disk=ssd'], { disk: ['ssd'] }],
    ['a word without "=" is ignored', ['MachineMetadata=region disk=ssd'], { disk: ['ssd'] }],
  ])('MachineMetadata: %s', (_, lines, expected) => {
    expect(parse(lines).metadata).toEqual(metadata(expected));
  });

  it.each([
    ['true', true], ['TRUE', true], ['yes', true], ['Yes', true], ['1', true], ['on', true], ['ON', true], ['t', true], ['T', true],
    ['false', false], ['no', false], ['0', false], ['off', false], ['f', false], ['maybe', false], ['', false],
  ])('Global=%s is %s', (value, expected) => {
    expect(parse([`Global=${value}`]).global).toBe(expected);
  });

  it.each<[string, string[], boolean]>([
    ['a later false overrides true', ['Global=true', 'Global=false'], false],
    ['a later true overrides false', ['Global=false', 'Global=yes'], true],
    ['a later empty value overrides true', ['Global=true', 'Global='], false],
  ])('Global: the last value wins: %s', (_, lines, expected) => {
    expect(parse(lines).global).toBe(expected);
  });

  it.each([
    ['%n is the full name of an instance', 'web@1.service', '%n', 'web@1.service'],
    ['%N is an instance name without its suffix', 'web@1.service', '%N', 'web@1'],
    ['%p is the prefix before "@"', 'web@1.service', '%p', 'web'],
    ['%i is the instance', 'web@1.service', '%i', '1'],
    ['%n is the full name of a plain unit', 'web.service', '%n', 'web.service'],
    ['%N is a plain name without its suffix', 'web.service', '%N', 'web'],
    ['%p is a plain name without its suffix', 'web.service', '%p', 'web'],
    ['%i is empty for a plain unit', 'web.service', 'a%ib', 'ab'],
    ['%i is empty for a template', 'web@.service', 'a%ib', 'ab'],
    ['%% is a literal %', 'web@1.service', '100%%', '100%'],
    ['%% is resolved once, not re-read as a specifier', 'web@1.service', '%%i', '%i'],
    ['unknown specifiers are kept', 'web@1.service', '%x%', '%x%'],
    ['specifiers combine', 'web@1.service', 'db@%i.%p-%i', 'db@1.web-1'],
  ])('%s (%s: %s → %s)', (_, name, value, expected) => {
    expect(parse([`Conflicts=${value}`], name).conflicts).toEqual([expected]);
  });

  it('resolves specifiers in every option', () => {
    expect(parse(['MachineOf=db@%i.service', 'MachineMetadata=role=%p', 'SpreadBy=%p-zone'], 'web@7.service')).toEqual({
      ...noRequirements,
      machineOf: ['db@7.service'],
      metadata: metadata({ role: ['web'] }),
      spreadBy: 'web-zone',
    });
  });
});

describe('requirementsProblems', () => {
  it.each<[string, string[]]>([
    ['no options', []],
    ['every option alone', ['MachineOf=db.service', 'MachineMetadata=region=us']],
    ['Global= with Conflicts= (a global unit skips machines with conflicts)', ['Global=true', 'Conflicts=web*']],
    ['Global= with MachineMetadata=', ['Global=true', 'MachineMetadata=region=us']],
    ['Global=false with MachineOf= (not global)', ['Global=false', 'MachineOf=db.service']],
    ['MachineID= with MachineMetadata=', ['MachineID=abc', 'MachineMetadata=region=us']],
    ['a Conflicts= glob that matches the unit itself', ['Conflicts=web*']],
    ['ConflictsScope= with Conflicts=', ['Conflicts=web*', 'ConflictsScope=rack']],
    ['SpreadBy= with MachineOf=', ['SpreadBy=zone', 'MachineOf=db.service']],
    ['deprecated X-ConditionMachineBootID=', ['X-ConditionMachineBootID=abc']],
    ['every boolean word for Global=', ['Global=TRUE', 'Global=Off', 'Global=t', 'Global=0']],
    // What fleet accepts, we accept (fleet's fleetctl warns about unknown options; so does ours).
    ['an unknown option', ['Foo=bar']],
    ['an option in the wrong case', ['machineid=abc', 'Conflicts=x*']],
    ['a peer that is the unit itself', ['MachineOf=%n']],
    ['a peer that is not a unit name', ['MachineOf=db']],
    ['a peer that is a path', ['MachineOf=../db.service']],
    ['ConflictsScope= without Conflicts= (it scopes nothing)', ['ConflictsScope=rack']],
    ['a malformed Conflicts= glob', ['Conflicts=db[']],
    ['a malformed Replaces= glob', ['Replaces=db\\']],
    ['a Global= value that is not a boolean', ['Global=maybe']],
    ['an empty Global= value', ['Global=']],
    ['AtMostOnce= with every placement rule', ['AtMostOnce=true', 'MachineMetadata=region=us', 'Conflicts=web*', 'SpreadBy=zone']],
    ['AtMostOnce= on a global unit', ['AtMostOnce=on', 'Global=true']],
    ['AtMostOnce= on a pinned unit', ['AtMostOnce=true', 'MachineID=abc']],
    ['an empty AtMostOnce= value (the default)', ['AtMostOnce=']],
  ])('accepts %s', (_, lines) => {
    expect(problems(lines)).toEqual([]);
  });

  it.each<[string, string[], string[]]>([
    ['MachineID= with MachineOf=', ['MachineID=abc', 'MachineOf=db.service'], ['MachineID= cannot be combined with MachineOf=']],
    ['MachineID= with Conflicts=', ['MachineID=abc', 'Conflicts=web*'], ['MachineID= cannot be combined with Conflicts=']],
    ['MachineID= with Global=', ['MachineID=abc', 'Global=true'], ['MachineID= cannot be combined with Global=']],
    ['MachineID= with Replaces=', ['MachineID=abc', 'Replaces=old.service'], ['MachineID= cannot be combined with Replaces=']],
    ['MachineID= with SpreadBy=', ['MachineID=abc', 'SpreadBy=zone'], ['MachineID= cannot be combined with SpreadBy=']],
    ['MachineID= with ConflictsScope=', ['MachineID=abc', 'Conflicts=web*', 'ConflictsScope=rack'], [
      'MachineID= cannot be combined with Conflicts=',
      'MachineID= cannot be combined with ConflictsScope=',
    ]],
    ['deprecated spellings, named as written', ['X-ConditionMachineID=abc', 'X-Conflicts=web*'], ['X-ConditionMachineID= cannot be combined with X-Conflicts=']],
    ['Global= with MachineOf=', ['Global=yes', 'MachineOf=db.service'], ['Global= cannot be combined with MachineOf=']],
    ['Global= with Replaces=', ['Global=1', 'Replaces=old.service'], ['Global= cannot be combined with Replaces=']],
    ['Conflicts= with Replaces=', ['Conflicts=a*', 'Replaces=old.service'], ['Conflicts= cannot be combined with Replaces=']],
    ['a peer matched by Conflicts=', ['MachineOf=db.service', 'Conflicts=d*'], ['unresolvable requirements: MachineOf=db.service is matched by Conflicts=d*']],
    ['a peer matched by Replaces=', ['MachineOf=db.service', 'Replaces=db.service'], ['unresolvable requirements: MachineOf=db.service is matched by Replaces=db.service']],
    ['a peer matched by deprecated spellings', ['X-ConditionMachineOf=db.service', 'X-Conflicts=db*'], ['unresolvable requirements: X-ConditionMachineOf=db.service is matched by X-Conflicts=db*']],
    ['an AtMostOnce= that is not a boolean', ['AtMostOnce=maybe'], ['AtMostOnce=maybe is not a boolean (use true or false)']],
    ['an AtMostOnce= that is not a boolean, quoted in the message', ['AtMostOnce=yes please'], ['AtMostOnce="yes please" is not a boolean (use true or false)']],
    ['a SpreadBy= key with "="', ['SpreadBy=zone=a'], ['SpreadBy=zone=a is not a valid metadata key: it may not contain "=", "," or whitespace']],
    ['a SpreadBy= key with ","', ['SpreadBy=a,b'], ['SpreadBy=a,b is not a valid metadata key: it may not contain "=", "," or whitespace']],
    ['a SpreadBy= key with whitespace', ['SpreadBy=a b'], ['SpreadBy="a b" is not a valid metadata key: it may not contain "=", "," or whitespace']],
    ['an empty SpreadBy= key', ['SpreadBy='], ['SpreadBy="" is not a valid metadata key: it is empty']],
    ['an empty quoted ConflictsScope= key', ['Conflicts=a*', 'ConflictsScope=""'], ['ConflictsScope="" is not a valid metadata key: it is empty']],
  ])('rejects %s', (_, lines, expected) => {
    expect(problems(lines)).toEqual(expected);
  });

  it('checks peers against globs as written, specifiers unresolved, as fleet does', () => {
    expect(problems(['MachineOf=db@%i.service', 'Conflicts=db@%i.*'])).toEqual([
      'unresolvable requirements: MachineOf=db@%i.service is matched by Conflicts=db@%i.*',
    ]);
    // Resolved for web@.service, %n would be matched by %p@*; fleet accepts such a template (measured).
    expect(problems(['MachineOf=%n', 'Conflicts=%p@*.service'])).toEqual([]);
  });

  it('reports every problem at once', () => {
    expect(problems(['Foo=1', 'MachineID=abc', 'Global=true', 'MachineOf=web.service', 'Conflicts=w*', 'Replaces=x[', 'SpreadBy=a,b'])).toEqual([
      'MachineID= cannot be combined with MachineOf=',
      'MachineID= cannot be combined with Conflicts=',
      'MachineID= cannot be combined with Global=',
      'MachineID= cannot be combined with Replaces=',
      'MachineID= cannot be combined with SpreadBy=',
      'Global= cannot be combined with MachineOf=',
      'Global= cannot be combined with Replaces=',
      'Conflicts= cannot be combined with Replaces=',
      'unresolvable requirements: MachineOf=web.service is matched by Conflicts=w*',
      'SpreadBy=a,b is not a valid metadata key: it may not contain "=", "," or whitespace',
    ]);
  });

  it('keeps every message on one line', () => {
    const file: UnitFile = [
      { section: 'X-Fleet', name: 'SpreadBy', value: 'a\nb' },
      { section: 'X-Fleet', name: 'ConflictsScope', value: 'r\ns' },
    ];
    const found = requirementsProblems(file);
    expect(found).toHaveLength(2);
    for (const message of found) expect(message).not.toMatch(/\n/);
  });
});

describe('unknownRequirementOptions', () => {
  it.each<[string, string[], string[]]>([
    ['none in a file of known options', ['MachineOf=db.service', 'X-ConditionMachineBootID=abc', 'SpreadBy=rack'], []],
    ['unknown names, once each, in file order', ['Foo=1', 'MachineOf=db.service', 'Bar=2', 'Foo=3'], ['Foo', 'Bar']],
    ['names are case-sensitive', ['machineid=abc', 'Global=true'], ['machineid']],
  ])('%s', (_, lines, expected) => {
    expect(unknownRequirementOptions(fleetFile(lines))).toEqual(expected);
  });

  it('looks only at [X-Fleet]', () => {
    expect(unknownRequirementOptions(parseUnitFile('[Service]\nFoo=1\n[X-Fleet]\nBar=2\n'))).toEqual(['Bar']);
  });
});
