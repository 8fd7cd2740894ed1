import { UsageError } from './cli-errors.js';

/** The flags a command line may carry, by name without dashes, aliases included. */
export interface FlagSet {
  /** Flags that take a value (`--endpoint x`, `-o json`). */
  readonly value: ReadonlySet<string>;
  /** Flags that take none (`--debug`, `-l`); `--flag=value` still works for them. */
  readonly boolean: ReadonlySet<string>;
}

/** The part of yargs' `getOptions()` that says which flags exist and which take a value. */
export interface OptionsLike {
  readonly key: Readonly<Record<string, unknown>>;
  readonly alias: Readonly<Record<string, readonly string[]>>;
  readonly boolean: readonly string[];
}

/** The {@link FlagSet} of a yargs instance's options: booleans take no value, everything else does. */
export function flagSetOf(options: OptionsLike): FlagSet {
  const value = new Set<string>();
  const boolean = new Set<string>();
  const isBoolean = new Set(options.boolean);
  const aliasesOf = (key: string): string[] => [
    ...(options.alias[key] ?? []),
    ...Object.keys(options.alias).filter((k) => (options.alias[k] ?? []).includes(key)),
  ];
  for (const key of Object.keys(options.key)) {
    const names = [key, ...aliasesOf(key)];
    const bool = names.some((n) => isBoolean.has(n));
    for (const name of names) (bool ? boolean : value).add(name);
  }
  return { value, boolean };
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
  const known = (name: string): boolean => flags.value.has(name) || flags.boolean.has(name);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') {
      for (let j = i + 1; j < args.length; j++) positionals.push({ index: j, value: args[j] as string, afterDoubleDash: true });
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      if (!known(name)) unknownFlags.push(`--${name}`);
      else if (eq < 0 && flags.value.has(name)) i++;
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1 && !/^-\d/.test(arg)) {
      const eq = arg.indexOf('=');
      const letters = arg.slice(1, eq < 0 ? undefined : eq);
      for (const [k, letter] of [...letters].entries()) {
        if (!known(letter)) unknownFlags.push(`-${letter}`);
        else if (eq < 0 && k === letters.length - 1 && flags.value.has(letter)) i++;
      }
      continue;
    }
    positionals.push({ index: i, value: arg, afterDoubleDash: false });
  }
  return { positionals, unknownFlags };
}

/** What fleetctl's command line offers, for {@link resolveCommandLine}. */
export interface CommandLineSpec {
  /** Every command name prefix matching chooses from (`help` included). */
  readonly commands: readonly string[];
  /** fleet's commands that this fleetctl does not have, with why (matched like commands). */
  readonly unsupported: Readonly<Record<string, string>>;
  /** The global flags: enough to find the command word. */
  readonly globalFlags: FlagSet;
  /** Global flags plus those of `command`. */
  flagsOf(command: string): FlagSet;
}

/** How a command word matched. */
export type CommandMatch =
  | { readonly kind: 'exact' | 'prefix'; readonly command: string }
  | { readonly kind: 'ambiguous'; readonly candidates: readonly string[] }
  | { readonly kind: 'unknown'; readonly suggestion?: string };

/**
 * Matches a command word as cobra does with `EnablePrefixMatching`: an exact name wins, then a
 * prefix of exactly one name; a prefix of several is ambiguous. For unknown words, suggests the
 * nearest name within 2 edits (cobra's SuggestionsMinimumDistance).
 */
export function matchCommand(word: string, commands: readonly string[]): CommandMatch {
  if (commands.includes(word)) return { kind: 'exact', command: word };
  const candidates = word === '' ? [] : commands.filter((c) => c.startsWith(word)).sort();
  if (candidates.length === 1) return { kind: 'prefix', command: candidates[0] as string };
  if (candidates.length > 1) return { kind: 'ambiguous', candidates };
  let best: { name: string; distance: number } | undefined;
  for (const name of commands) {
    const distance = editDistance(word.toLowerCase(), name);
    if (distance <= 2 && (best === undefined || distance < best.distance)) best = { name, distance };
  }
  return best === undefined ? { kind: 'unknown' } : { kind: 'unknown', suggestion: best.name };
}

/**
 * Rewrites fleetctl's argv before yargs parses it, throwing a {@link UsageError} for what cobra
 * would refuse:
 *
 * - the command word (the first positional, global flags and their values skipped) may be a
 *   unique prefix (`list-m` runs `list-machines`); an ambiguous one (`st`) or an unknown one is an
 *   error naming the candidates, or the nearest name;
 * - `help [COMMAND]` becomes `[COMMAND] --help`; no command at all prints help, as fleet does
 *   (unless `--version` is given);
 * - a flag that is neither global nor the command's is an error (`unknown flag: --bogus`),
 *   reported before anything else yargs would complain about.
 */
export function resolveCommandLine(argv: readonly string[], spec: CommandLineSpec): string[] {
  const args = [...argv];
  const first = scanArgs(args, spec.globalFlags).positionals.find((p) => !p.afterDoubleDash);
  if (first === undefined) {
    const asksVersion = args.some((a) => a === '--version' || a === '-v' || a.startsWith('--version='));
    return asksVersion ? args : withHelpFlag(args);
  }
  const command = resolveWord(first.value, spec);
  args[first.index] = command;
  if (command === 'help') return helpArgs(args, first.index, spec);
  const unknown = scanArgs(args, spec.flagsOf(command)).unknownFlags;
  if (unknown.length > 0) throw new UsageError(`unknown flag${unknown.length > 1 ? 's' : ''}: ${[...new Set(unknown)].join(', ')}`);
  return args;
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
  const match = matchCommand(word, [...spec.commands, ...unsupported]);
  switch (match.kind) {
    case 'exact':
    case 'prefix':
      if (Object.hasOwn(spec.unsupported, match.command)) {
        throw new UsageError(`"${match.command}" is not supported: ${spec.unsupported[match.command] ?? ''}`);
      }
      return match.command;
    case 'ambiguous':
      throw new UsageError(`ambiguous command "${word}": could be ${orList(match.candidates)}`);
    case 'unknown': {
      const hint = match.suggestion === undefined ? '' : ` (did you mean "${match.suggestion}"?)`;
      throw new UsageError(`unknown command "${word}" for "fleetctl"${hint}`);
    }
  }
}

// `help` alone, `help TOPIC`: the topic's own help, the topic resolved like a command word.
function helpArgs(args: readonly string[], helpIndex: number, spec: CommandLineSpec): string[] {
  const rest = args.filter((_, i) => i !== helpIndex);
  const topic = scanArgs(rest, spec.globalFlags).positionals.find((p) => !p.afterDoubleDash);
  if (topic === undefined) return withHelpFlag(rest);
  const match = matchCommand(topic.value, spec.commands);
  if (match.kind !== 'exact' && match.kind !== 'prefix') throw new UsageError(`unknown help topic "${topic.value}"`);
  const others = withHelpFlag(rest.filter((_, i) => i !== topic.index));
  return match.command === 'help' ? others : [match.command, ...others];
}

// `--help` before a `--`, after which it would be an argument.
function withHelpFlag(args: readonly string[]): string[] {
  const end = args.indexOf('--');
  return end < 0 ? [...args, '--help'] : [...args.slice(0, end), '--help', ...args.slice(end)];
}

function orList(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1] ?? ''}`;
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
