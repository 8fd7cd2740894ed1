import { UsageError } from './cli-errors.js';

/** The flags a command line may carry, by name without dashes, aliases included. */
export interface FlagSet {
  /** Flags that take a value (`--endpoint x`, `-o json`). */
  readonly value: ReadonlySet<string>;
  /** Flags that take none (`--debug`, `-l`); `--flag=value` still works for them. */
  readonly boolean: ReadonlySet<string>;
  /** Value flags that take a number, and which kind (fleet's int and float64 flags). */
  readonly number?: ReadonlyMap<string, 'int' | 'float'>;
}

/** The part of yargs' `getOptions()` that says which flags exist and which take a value. */
export interface OptionsLike {
  readonly key: Readonly<Record<string, unknown>>;
  readonly alias: Readonly<Record<string, readonly string[]>>;
  readonly boolean: readonly string[];
  readonly number?: readonly string[];
}

/** fleet's int flags; its other numeric flags are float64. */
const intFlags = new Set(['block-attempts', 'lines', 'ssh-port']);

/** The {@link FlagSet} of a yargs instance's options: booleans take no value, everything else does. */
export function flagSetOf(options: OptionsLike): FlagSet {
  const value = new Set<string>();
  const boolean = new Set<string>();
  const number = new Map<string, 'int' | 'float'>();
  const isBoolean = new Set(options.boolean);
  const isNumber = new Set(options.number ?? []);
  const aliasesOf = (key: string): string[] => [
    ...(options.alias[key] ?? []),
    ...Object.keys(options.alias).filter((k) => (options.alias[k] ?? []).includes(key)),
  ];
  for (const key of Object.keys(options.key)) {
    const names = [key, ...aliasesOf(key)];
    const bool = names.some((n) => isBoolean.has(n));
    const numeric = names.some((n) => isNumber.has(n));
    for (const name of names) {
      (bool ? boolean : value).add(name);
      if (numeric && !bool) number.set(name, names.some((n) => intFlags.has(n)) ? 'int' : 'float');
    }
  }
  return { value, boolean, number };
}

/** A positional argument and where it is. */
export interface Positional {
  readonly index: number;
  readonly value: string;
  /** It comes after `--`, so it can only be an argument, never a command. */
  readonly afterDoubleDash: boolean;
}

/** What {@link scanArgs} found. */
export interface ScannedArgs {
  readonly positionals: readonly Positional[];
  /** Unknown flags as written (`--bogus`, `-x`), in order. */
  readonly unknownFlags: readonly string[];
  /**
   * What fleet's flag parser (pflag) refuses, in its words and in order: `unknown flag: --bogus`,
   * `unknown shorthand flag: 'x' in -x`, `flag needs an argument: --fields`, `invalid argument
   * "abc" for --block-attempts: strconv.ParseInt: parsing "abc": invalid syntax`.
   */
  readonly problems: readonly string[];
}

/**
 * Splits a command line into flags and positionals the way pflag and yargs agree on: `--name=v`,
 * `--name v` for flags that take a value, `-abc` as three short flags (the last one may take the
 * next argument), `-` and negative numbers as positionals, everything after `--` as positionals.
 * An unknown flag is recorded and taken to have no value.
 */
export function scanArgs(args: readonly string[], flags: FlagSet): ScannedArgs {
  const positionals: Positional[] = [];
  const unknownFlags: string[] = [];
  const problems: string[] = [];
  const known = (name: string): boolean => flags.value.has(name) || flags.boolean.has(name);
  // The value of a value flag: inline, else the next argument (pflag takes it whatever it is).
  const takeValue = (i: number, name: string, written: string, inline: string | undefined): number => {
    const next = inline ?? args[i + 1];
    if (next === undefined) problems.push(`flag needs an argument: ${written}`);
    else checkValue(flags, name, next, inline === undefined ? written : `${written}=${inline}`, problems);
    return inline === undefined ? i + 1 : i;
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') {
      for (let j = i + 1; j < args.length; j++) positionals.push({ index: j, value: args[j] as string, afterDoubleDash: true });
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      const inline = eq < 0 ? undefined : arg.slice(eq + 1);
      if (!known(name)) {
        unknownFlags.push(`--${name}`);
        problems.push(`unknown flag: --${name}`);
      } else if (flags.value.has(name)) i = takeValue(i, name, `--${name}`, inline);
      else if (inline !== undefined && goBool(inline) === undefined) {
        problems.push(`invalid argument ${JSON.stringify(inline)} for ${arg}: strconv.ParseBool: parsing ${JSON.stringify(inline)}: invalid syntax`);
      }
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1 && !/^-\d/.test(arg)) {
      const eq = arg.indexOf('=');
      const letters = arg.slice(1, eq < 0 ? undefined : eq);
      for (const [k, letter] of [...letters].entries()) {
        if (!known(letter)) {
          unknownFlags.push(`-${letter}`);
          problems.push(`unknown shorthand flag: '${letter}' in ${arg}`);
        } else if (k === letters.length - 1 && flags.value.has(letter)) {
          i = takeValue(i, letter, `'${letter}' in -${letter}`, eq < 0 ? undefined : arg.slice(eq + 1));
        }
      }
      continue;
    }
    positionals.push({ index: i, value: arg, afterDoubleDash: false });
  }
  return { positionals, unknownFlags, problems };
}

// pflag parses numeric flags with Go's strconv: a value it cannot read is an error.
function checkValue(flags: FlagSet, name: string, value: string, written: string, problems: string[]): void {
  const kind = flags.number?.get(name);
  if (kind === undefined) return;
  const ok = kind === 'int' ? /^[+-]?\d+$/.test(value) : /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value) || /^[+-]?(inf|infinity|nan)$/i.test(value);
  if (ok) return;
  const parser = kind === 'int' ? 'strconv.ParseInt' : 'strconv.ParseFloat';
  problems.push(`invalid argument ${JSON.stringify(value)} for ${written}: ${parser}: parsing ${JSON.stringify(value)}: invalid syntax`);
}

/** Go's `strconv.ParseBool`, or `undefined` for what it refuses. */
export function goBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
}

/** What fleetctl's command line offers, for {@link resolveCommandLine}. */
export interface CommandLineSpec {
  /** Every command name prefix matching chooses from (`help` included). */
  readonly commands: readonly string[];
  /** fleet's commands that this fleetctl does not have, with why (matched like commands). */
  readonly unsupported: Readonly<Record<string, string>>;
  /**
   * The commands an unknown command word may be corrected to (cobra's available commands: neither
   * `help` nor deprecated ones); defaults to {@link commands} and the unsupported ones.
   */
  readonly suggestable?: readonly string[];
  /** The global flags: enough to find the command word. */
  readonly globalFlags: FlagSet;
  /** Global flags plus those of `command`. */
  flagsOf(command: string): FlagSet;
}

/** How a command word matched. */
export type CommandMatch =
  | { readonly kind: 'exact' | 'prefix'; readonly command: string }
  | { readonly kind: 'ambiguous'; readonly candidates: readonly string[] }
  | { readonly kind: 'unknown' };

/**
 * Matches a command word as cobra does with `EnablePrefixMatching`: an exact name wins, then a
 * prefix of exactly one name; a prefix of several is ambiguous (cobra then calls it unknown).
 */
export function matchCommand(word: string, commands: readonly string[]): CommandMatch {
  if (commands.includes(word)) return { kind: 'exact', command: word };
  const candidates = word === '' ? [] : commands.filter((c) => c.startsWith(word)).sort();
  if (candidates.length === 1) return { kind: 'prefix', command: candidates[0] as string };
  if (candidates.length > 1) return { kind: 'ambiguous', candidates };
  return { kind: 'unknown' };
}

/**
 * cobra's suggestions for an unknown command word, sorted: the commands it is a prefix of, or
 * within 2 edits of (case ignored).
 */
export function suggestCommands(word: string, commands: readonly string[]): string[] {
  const typed = word.toLowerCase();
  return [...commands].sort().filter((name) => name.toLowerCase().startsWith(typed) || editDistance(typed, name.toLowerCase()) <= 2);
}

/** What {@link resolveCommandLine} made of a command line. */
export interface ResolvedCommandLine {
  /** The arguments for yargs. */
  readonly args: string[];
  /** A line for stderr before the help is shown (fleet's ``Unknown help topic [`x`].``). */
  readonly notice?: string;
}

/**
 * Rewrites fleetctl's argv before yargs parses it, throwing a {@link UsageError} for what cobra
 * would refuse:
 *
 * - `--version` or `-v` as the very first argument runs `version` (as in fleet; elsewhere
 *   `--version` is a flag that does nothing, and `-v` an unknown one);
 * - the command word (the first positional, global flags and their values skipped) may be a
 *   unique prefix (`list-m` runs `list-machines`); any other word is an unknown command, with
 *   cobra's suggestions (`Did you mean this?`);
 * - `help [COMMAND]` becomes `[COMMAND] --help`; no command at all prints help, as fleet does;
 *   an unknown topic gets fleet's notice and the general help;
 * - a flag pflag would refuse (unknown, missing its value, a number or boolean it cannot parse)
 *   is an error in pflag's words, the first one only, before anything else yargs would complain
 *   about; `--flag=VALUE` of a boolean flag is passed on as `true` or `false`.
 */
export function resolveCommandLine(argv: readonly string[], spec: CommandLineSpec): ResolvedCommandLine {
  if (argv[0] === '--version' || argv[0] === '-v') return { args: ['version'] };
  const args = [...argv];
  const first = scanArgs(args, spec.globalFlags).positionals.find((p) => !p.afterDoubleDash);
  if (first === undefined) {
    refuseFlags(args, spec.globalFlags);
    return { args: withHelpFlag(args) };
  }
  const command = resolveWord(first.value, spec);
  args[first.index] = command;
  if (command === 'help') return helpArgs(args, first.index, spec);
  const flags = spec.flagsOf(command);
  refuseFlags(args, flags);
  return { args: args.map((arg, i) => (i < (args.indexOf('--') < 0 ? args.length : args.indexOf('--')) ? boolValue(arg, flags) : arg)) };
}

function refuseFlags(args: readonly string[], flags: FlagSet): void {
  const problem = scanArgs(args, flags).problems[0];
  if (problem !== undefined) throw new UsageError(problem, 'flag');
}

// `--full=t` is pflag's `--full=true`; yargs only knows `true` and `false`.
function boolValue(arg: string, flags: FlagSet): string {
  const m = /^--([^=]+)=(.*)$/.exec(arg);
  if (m === null || !flags.boolean.has(m[1] ?? '')) return arg;
  const value = goBool(m[2] ?? '');
  return value === undefined ? arg : `--${m[1] ?? ''}=${String(value)}`;
}

/**
 * For shell completion: the words typed so far (program name first, the word being completed
 * last) with an abbreviated command word expanded, so that its flags complete. Never throws.
 */
export function expandCommandWord(words: readonly string[], spec: CommandLineSpec): string[] {
  const out = [...words];
  const before = out.slice(1, -1);
  const first = scanArgs(before, spec.globalFlags).positionals.find((p) => !p.afterDoubleDash);
  if (first === undefined) return out;
  const match = matchCommand(first.value, spec.commands);
  if (match.kind === 'prefix') out[first.index + 1] = match.command;
  return out;
}

function resolveWord(word: string, spec: CommandLineSpec): string {
  const unsupported = Object.keys(spec.unsupported);
  const match = matchCommand(word, [...new Set([...spec.commands, ...unsupported])]);
  if (match.kind === 'exact' || match.kind === 'prefix') {
    if (Object.hasOwn(spec.unsupported, match.command)) {
      throw new UsageError(`"${match.command}" is not supported: ${spec.unsupported[match.command] ?? ''}`);
    }
    return match.command;
  }
  const suggestions = suggestCommands(word, spec.suggestable ?? [...spec.commands, ...unsupported]);
  const hint = suggestions.length === 0 ? '' : `\n\nDid you mean this?\n${suggestions.map((s) => `\t${s}\n`).join('')}`;
  throw new UsageError(`unknown command ${JSON.stringify(word)} for "fleetctl"${hint}`, 'command');
}

// `help` alone, `help TOPIC`: the topic's own help, the topic resolved like a command word; an
// unknown topic gets fleet's notice and the general help.
function helpArgs(args: readonly string[], helpIndex: number, spec: CommandLineSpec): ResolvedCommandLine {
  const rest = args.filter((_, i) => i !== helpIndex);
  const topic = scanArgs(rest, spec.globalFlags).positionals.find((p) => !p.afterDoubleDash);
  if (topic === undefined) return { args: withHelpFlag(rest) };
  const others = withHelpFlag(rest.filter((_, i) => i !== topic.index));
  const match = matchCommand(topic.value, spec.commands);
  if (match.kind !== 'exact' && match.kind !== 'prefix') return { args: others, notice: `Unknown help topic [\`${topic.value}\`].` };
  return { args: match.command === 'help' ? others : [match.command, ...others] };
}

// `--help` before a `--`, after which it would be an argument.
function withHelpFlag(args: readonly string[]): string[] {
  const end = args.indexOf('--');
  return end < 0 ? [...args, '--help'] : [...args.slice(0, end), '--help', ...args.slice(end)];
}

/** Levenshtein distance, for "did you mean". */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
