import { describe, expect, it } from 'vitest';
import { UsageError } from './cli-errors.js';
import { expandCommandWord, flagSetOf, goBool, matchCommand, resolveCommandLine, scanArgs, suggestCommands } from './command-line.js';
import type { CommandLineSpec, FlagSet } from './command-line.js';

const globalFlags: FlagSet = {
  value: new Set(['endpoint', 'request-timeout']),
  boolean: new Set(['debug', 'help', 'h', 'version']),
  number: new Map([['request-timeout', 'float']]),
};
const commandFlags: Record<string, FlagSet> = {
  'list-units': { value: new Set(['fields', 'output', 'o']), boolean: new Set(['full', 'l', 'no-legend']) },
  start: { value: new Set(['block-attempts']), boolean: new Set(['no-block', 'replace', 'sign']), number: new Map([['block-attempts', 'int']]) },
};
const spec: CommandLineSpec = {
  commands: ['start', 'status', 'stop', 'submit', 'list-units', 'list-unit-files', 'list-machines', 'help', 'version', 'verify'],
  unsupported: { journal: 'not yet' },
  globalFlags,
  flagsOf: (command) => {
    const own = commandFlags[command];
    if (own === undefined) return globalFlags;
    return {
      value: new Set([...globalFlags.value, ...own.value]),
      boolean: new Set([...globalFlags.boolean, ...own.boolean]),
      number: new Map([...(globalFlags.number ?? []), ...(own.number ?? [])]),
    };
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
    ['strat', { kind: 'unknown' }],
    ['', { kind: 'unknown' }],
  ])('%j', (word, expected) => {
    expect(matchCommand(word, spec.commands)).toEqual(expected);
  });
});

describe('suggestCommands', () => {
  const fleets = ['cat', 'destroy', 'fd-forward', 'journal', 'list-machines', 'list-unit-files', 'list-units', 'load', 'restart', 'ssh', 'start', 'status', 'stop', 'submit', 'unload', 'version'];
  it.each([
    ['st', ['cat', 'ssh', 'start', 'status', 'stop']],
    ['lis', ['list-machines', 'list-unit-files', 'list-units']],
    ['stp', ['ssh', 'stop']],
    ['strat', ['start']],
    ['LIST-UNITS', ['list-units']],
    ['bogus', []],
  ])("as cobra: %j suggests %j (prefixes, and names within 2 edits)", (word, expected) => {
    expect(suggestCommands(word, fleets)).toEqual(expected);
  });
});

describe('scanArgs', () => {
  it.each([
    [['--endpoint', 'x', 'list-units'], ['list-units'], []],
    [['--endpoint=x', '--debug', 'list-units', 'a'], ['list-units', 'a'], []],
    [['--debug', 'true', 'list-units'], ['true', 'list-units'], []],
    [['-hd', 'start'], ['start'], ['-d']],
    [['--bogus', 'start', '-x'], ['start'], ['--bogus', '-x']],
    [['start', '--', '--endpoint', 'a'], ['start', '--endpoint', 'a'], []],
    [['start', '-', '-1'], ['start', '-', '-1'], []],
    [['--request-timeout', '-1', 'start'], ['start'], []],
  ])('%j', (args, positionals, unknown) => {
    const scanned = scanArgs(args, globalFlags);
    expect(scanned.positionals.map((p) => p.value)).toEqual(positionals);
    expect(scanned.unknownFlags).toEqual(unknown);
  });

  it.each([
    [['--bogus', 'start', '-x'], ['unknown flag: --bogus', "unknown shorthand flag: 'x' in -x"]],
    [['start', '-hxy'], ["unknown shorthand flag: 'x' in -hxy", "unknown shorthand flag: 'y' in -hxy"]],
    [['start', '--endpoint'], ['flag needs an argument: --endpoint']],
    [['start', '--request-timeout', 'soon'], ['invalid argument "soon" for --request-timeout: strconv.ParseFloat: parsing "soon": invalid syntax']],
    [['start', '--request-timeout=1e3', '--request-timeout', '.5'], []],
    [['start', '--debug=maybe'], ['invalid argument "maybe" for --debug=maybe: strconv.ParseBool: parsing "maybe": invalid syntax']],
    [['start', '--debug=T', '--', '--bogus'], []],
  ])("words what pflag refuses as pflag does: %j", (args, problems) => {
    expect(scanArgs(args, globalFlags).problems).toEqual(problems);
  });

  it('takes an int flag only as a whole number', () => {
    expect(scanArgs(['start', '--block-attempts', '1.5'], spec.flagsOf('start')).problems).toEqual([
      'invalid argument "1.5" for --block-attempts: strconv.ParseInt: parsing "1.5": invalid syntax',
    ]);
  });

  it("reads booleans as Go's strconv.ParseBool", () => {
    expect(['1', 't', 'T', 'TRUE', 'true', 'True'].map(goBool)).toEqual(Array(6).fill(true));
    expect(['0', 'f', 'F', 'FALSE', 'false', 'False'].map(goBool)).toEqual(Array(6).fill(false));
    expect(['yes', 'on', ''].map(goBool)).toEqual([undefined, undefined, undefined]);
  });

  it('takes the value of the last short flag of a cluster', () => {
    const flags = spec.flagsOf('list-units');
    expect(scanArgs(['list-units', '-lo', 'json', 'x'], flags).positionals.map((p) => p.value)).toEqual(['list-units', 'x']);
    expect(scanArgs(['list-units', '-o=json'], flags).unknownFlags).toEqual([]);
    expect(scanArgs(['list-units', '-ojson'], flags).unknownFlags).toEqual(['-j', '-s', '-n']);
    expect(scanArgs(['list-units', '-lo'], flags).problems).toEqual(["flag needs an argument: 'o' in -o"]);
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
  const unknown = (word: string, suggestions: readonly string[] = []): UsageError =>
    new UsageError(`unknown command "${word}" for "fleetctl"${suggestions.length === 0 ? '' : `\n\nDid you mean this?\n${suggestions.map((c) => `\t${c}\n`).join('')}`}`, 'command');
  it.each<[readonly string[], string[] | UsageError]>([
    [['list-units'], ['list-units']],
    [['list-u', '-l'], unknown('list-u', ['list-unit-files', 'list-units'])],
    [['list-m', '--debug'], ['list-machines', '--debug']],
    [['--endpoint', 'start', 'star', 'a.service'], ['--endpoint', 'start', 'start', 'a.service']],
    [['sta', 'x'], unknown('sta', ['start', 'status', 'stop'])],
    [['bogus', 'x'], unknown('bogus')],
    [['constructor'], unknown('constructor')],
    [['jour', 'x'], new UsageError('"journal" is not supported: not yet')],
    [['start', '--bogus', 'a'], new UsageError('unknown flag: --bogus', 'flag')],
    [['start', '--block-attempts', 'abc', 'a'], new UsageError('invalid argument "abc" for --block-attempts: strconv.ParseInt: parsing "abc": invalid syntax', 'flag')],
    [['--bogus'], new UsageError('unknown flag: --bogus', 'flag')],
    [['start', '--no-block', '--block-attempts', '3', 'a'], ['start', '--no-block', '--block-attempts', '3', 'a']],
    [['start', '--no-block=t', 'a', '--', '--replace=1'], ['start', '--no-block=true', 'a', '--', '--replace=1']],
    [['start', 'a', '--', '--bogus'], ['start', 'a', '--', '--bogus']],
    [['list-units', '-l', '--fields=unit', '-o', 'json'], ['list-units', '-l', '--fields=unit', '-o', 'json']],
    [[], ['--help']],
    [['--debug'], ['--debug', '--help']],
    [['--', 'start'], ['--help', '--', 'start']],
    // fleet: only as the very first argument; later --version is a flag that does nothing.
    [['--version'], ['version']],
    [['-v', 'list-units'], ['version']],
    [['--debug', '--version'], ['--debug', '--version', '--help']],
    [['list-units', '--version'], ['list-units', '--version']],
    [['list-units', '-v'], new UsageError("unknown shorthand flag: 'v' in -v", 'flag')],
    [['help'], ['--help']],
    [['he'], ['--help']],
    [['help', 'list-m'], ['list-machines', '--help']],
    [['--debug', 'help', 'start', '--endpoint', 'x'], ['start', '--debug', '--endpoint', 'x', '--help']],
    [['help', 'help'], ['--help']],
  ])('%j', (argv, expected) => {
    if (expected instanceof UsageError) {
      expect(() => resolveCommandLine(argv, spec)).toThrow(expected);
      try {
        resolveCommandLine(argv, spec);
      } catch (err) {
        expect((err as UsageError).kind).toBe(expected.kind);
      }
    } else {
      expect(resolveCommandLine(argv, spec)).toEqual({ args: expected });
    }
  });

  it("gives fleet's notice and the general help for an unknown help topic", () => {
    expect(resolveCommandLine(['help', 'st'], spec)).toEqual({ args: ['--help'], notice: 'Unknown help topic [`st`].' });
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
