import { describe, expect, it } from 'vitest';
import { UsageError } from './cli-errors.js';
import { expandCommandWord, flagSetOf, matchCommand, resolveCommandLine, scanArgs } from './command-line.js';
import type { CommandLineSpec, FlagSet } from './command-line.js';

const globalFlags: FlagSet = { value: new Set(['endpoint', 'request-timeout']), boolean: new Set(['debug', 'help', 'h', 'version', 'v']) };
const commandFlags: Record<string, FlagSet> = {
  'list-units': { value: new Set(['fields', 'output', 'o']), boolean: new Set(['full', 'l', 'no-legend']) },
  start: { value: new Set(['block-attempts']), boolean: new Set(['no-block', 'replace', 'sign']) },
};
const spec: CommandLineSpec = {
  commands: ['start', 'status', 'stop', 'submit', 'list-units', 'list-unit-files', 'list-machines', 'help', 'version', 'verify'],
  unsupported: { journal: 'not yet' },
  globalFlags,
  flagsOf: (command) => {
    const own = commandFlags[command];
    if (own === undefined) return globalFlags;
    return { value: new Set([...globalFlags.value, ...own.value]), boolean: new Set([...globalFlags.boolean, ...own.boolean]) };
  },
};

describe('matchCommand', () => {
  it.each([
    ['start', { kind: 'exact', command: 'start' }],
    ['star', { kind: 'prefix', command: 'start' }],
    ['list-m', { kind: 'prefix', command: 'list-machines' }],
    ['list-units', { kind: 'exact', command: 'list-units' }],
    ['st', { kind: 'ambiguous', candidates: ['start', 'status', 'stop'] }],
    ['ver', { kind: 'ambiguous', candidates: ['verify', 'version'] }],
    ['list-unit', { kind: 'ambiguous', candidates: ['list-unit-files', 'list-units'] }],
    ['strat', { kind: 'unknown', suggestion: 'start' }],
    ['LIST-UNITS', { kind: 'unknown', suggestion: 'list-units' }],
    ['bogus', { kind: 'unknown' }],
    ['', { kind: 'unknown' }],
  ])('%j', (word, expected) => {
    expect(matchCommand(word, spec.commands)).toEqual(expected);
  });
});

describe('scanArgs', () => {
  it.each([
    [['--endpoint', 'x', 'list-units'], ['list-units'], []],
    [['--endpoint=x', '--debug', 'list-units', 'a'], ['list-units', 'a'], []],
    [['--debug', 'true', 'list-units'], ['true', 'list-units'], []],
    [['-hv', 'start'], ['start'], []],
    [['--bogus', 'start', '-x'], ['start'], ['--bogus', '-x']],
    [['start', '--', '--endpoint', 'a'], ['start', '--endpoint', 'a'], []],
    [['start', '-', '-1'], ['start', '-', '-1'], []],
    [['--request-timeout', '-1', 'start'], ['start'], []],
  ])('%j', (args, positionals, unknown) => {
    const scanned = scanArgs(args, globalFlags);
    expect(scanned.positionals.map((p) => p.value)).toEqual(positionals);
    expect(scanned.unknownFlags).toEqual(unknown);
  });

  it('takes the value of the last short flag of a cluster', () => {
    const flags = spec.flagsOf('list-units');
    expect(scanArgs(['list-units', '-lo', 'json', 'x'], flags).positionals.map((p) => p.value)).toEqual(['list-units', 'x']);
    expect(scanArgs(['list-units', '-o=json'], flags).unknownFlags).toEqual([]);
    expect(scanArgs(['list-units', '-ojson'], flags).unknownFlags).toEqual(['-j', '-s', '-n']);
  });
});

describe('flagSetOf', () => {
  it('sorts the options of yargs by whether they take a value, aliases included', () => {
    const set = flagSetOf({
      key: { full: true, l: true, output: true, o: true, 'block-attempts': true },
      alias: { full: ['l'], output: ['o'] },
      boolean: ['full'],
    });
    expect([...set.boolean].sort()).toEqual(['full', 'l']);
    expect([...set.value].sort()).toEqual(['block-attempts', 'o', 'output']);
  });
});

describe('resolveCommandLine', () => {
  it.each([
    [['list-units'], ['list-units']],
    [['list-u', '-l'], 'ambiguous command "list-u": could be list-unit-files or list-units'],
    [['list-m', '--debug'], ['list-machines', '--debug']],
    [['--endpoint', 'start', 'star', 'a.service'], ['--endpoint', 'start', 'start', 'a.service']],
    [['sta', 'x'], 'ambiguous command "sta": could be start or status'],
    [['st'], 'ambiguous command "st": could be start, status or stop'],
    [['bogus', 'x'], 'unknown command "bogus" for "fleetctl"'],
    [['jour', 'x'], '"journal" is not supported: not yet'],
    [['constructor'], 'unknown command "constructor" for "fleetctl"'],
    [['start', '--bogus', 'a'], 'unknown flag: --bogus'],
    [['start', '--no-block', '--block-attempts', '3', 'a'], ['start', '--no-block', '--block-attempts', '3', 'a']],
    [['start', 'a', '--', '--bogus'], ['start', 'a', '--', '--bogus']],
    [['list-units', '-l', '--fields=unit', '-o', 'json'], ['list-units', '-l', '--fields=unit', '-o', 'json']],
    [[], ['--help']],
    [['--debug'], ['--debug', '--help']],
    [['--', 'start'], ['--help', '--', 'start']],
    [['--version'], ['--version']],
    [['-v'], ['-v']],
    [['help'], ['--help']],
    [['he'], ['--help']],
    [['help', 'list-m'], ['list-machines', '--help']],
    [['--debug', 'help', 'start', '--endpoint', 'x'], ['start', '--debug', '--endpoint', 'x', '--help']],
    [['help', 'help'], ['--help']],
    [['help', 'st'], 'unknown help topic "st"'],
  ])('%j', (argv, expected) => {
    if (typeof expected === 'string') {
      expect(() => resolveCommandLine(argv, spec)).toThrow(new UsageError(expected));
    } else {
      expect(resolveCommandLine(argv, spec)).toEqual(expected);
    }
  });
});

describe('expandCommandWord', () => {
  it.each([
    [['fleetctl', 'list-m', '--f'], ['fleetctl', 'list-machines', '--f']],
    [['fleetctl', '--endpoint', 'x', 'star', ''], ['fleetctl', '--endpoint', 'x', 'start', '']],
    [['fleetctl', 'list-m'], ['fleetctl', 'list-m']],
    [['fleetctl', 'st', ''], ['fleetctl', 'st', '']],
    [['fleetctl', 'bogus', ''], ['fleetctl', 'bogus', '']],
    [['fleetctl'], ['fleetctl']],
  ])('%j', (words, expected) => {
    expect(expandCommandWord(words, spec)).toEqual(expected);
  });
});
