import { scanArgs } from './command-line.js';
import type { CommandLineSpec } from './command-line.js';
import type { Env } from './env.js';

/** Commands whose arguments name registered units: their arguments complete from the API. */
const unitArgumentCommands: ReadonlySet<string> = new Set(['start', 'load', 'stop', 'unload', 'destroy', 'restart', 'status', 'cat', 'journal']);

/**
 * What the last of `words` (program name first, command word already expanded) is:
 *
 * - `command`: the command word itself, or the topic after `help`; every command name is a
 *   candidate (the shell filters);
 * - `unit`: an argument of a command in {@link unitArgumentCommands} (not a path, not a flag or
 *   a flag's value): registered unit names starting with `prefix` are the candidates;
 * - `other`: flags, flag values and choices, which yargs completes from the command's options.
 */
export type CompletionTarget = { readonly kind: 'command' } | { readonly kind: 'unit'; readonly prefix: string } | { readonly kind: 'other' };

/** Classifies the word being completed (see {@link CompletionTarget}). Pure; never throws. */
export function completionTarget(words: readonly string[], spec: CommandLineSpec): CompletionTarget {
  const args = words.slice(1);
  const last = args.length - 1;
  const command = scanArgs(args, spec.globalFlags).positionals.find((p) => !p.afterDoubleDash);
  if (command === undefined) return { kind: 'other' };
  if (command.index === last) return { kind: 'command' };
  const positionals = scanArgs(args, spec.flagsOf(command.value)).positionals;
  const current = positionals[positionals.length - 1];
  if (command.value === 'help') {
    const topic = positionals.find((p) => p.index > command.index);
    return topic !== undefined && topic.index === last ? { kind: 'command' } : { kind: 'other' };
  }
  if (!unitArgumentCommands.has(command.value)) return { kind: 'other' };
  // `-` alone is a positional to scanArgs; here it is the start of a flag being typed.
  if (current === undefined || current.index !== last || current.index === command.index || current.value.includes('/') || current.value.startsWith('-')) {
    return { kind: 'other' };
  }
  return { kind: 'unit', prefix: current.value };
}

/**
 * The unit names that complete `prefix`, one candidate each, sorted. For zsh, whose `_describe`
 * reads `name:description`, a `:` in a name is escaped.
 */
export function unitCandidates(names: readonly string[], prefix: string, zsh: boolean): string[] {
  return names
    .filter((n) => n.startsWith(prefix))
    .sort()
    .map((n) => (zsh ? n.replace(/:/g, '\\:') : n));
}

/** Whether the completing shell is zsh, as yargs decides it (SHELL or ZSH_NAME; the scripts set SHELL). */
export function isZsh(env: Env): boolean {
  return (env['SHELL'] ?? '').includes('zsh') || (env['ZSH_NAME'] ?? '').includes('zsh');
}
