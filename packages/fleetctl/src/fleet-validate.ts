import { globMatch, parseRequirements, templateSuffixes, unitSuffixes } from '@fleet/core/model';
import type { UnitFile, UnitName } from '@fleet/core/model';
import { goQuote } from './fleet-text.js';

const maxNameLength = 256;
const nameCharacters = /^[A-Za-z0-9:_.@-]$/u;

/**
 * What fleet's fleetctl says about a unit name before creating the unit (its `api.ValidateName`),
 * or `undefined` for a valid name: `invalid character '!' in unit name`, `unit name cannot start
 * in "@"`... Checked on the client, as fleet does, so that the message is fleet's whatever the
 * server would say.
 */
export function unitNameError(name: string): string | undefined {
  if (name.length === 0) return 'unit name cannot be empty';
  if (name.length > maxNameLength) return `unit name exceeds maximum length (${maxNameLength})`;
  const dot = name.lastIndexOf('.');
  if (dot === -1) return 'unit name must contain "."';
  if (dot === name.length - 1) return 'unit name cannot end in "."';
  const suffix = name.slice(dot + 1);
  if (!(unitSuffixes as readonly string[]).includes(suffix)) return `invalid unit type: ${goQuote(suffix)}`;
  if (name.slice(0, dot).includes('@') && !(templateSuffixes as readonly string[]).includes(suffix)) {
    return `invalid unit type for template: ${goQuote(suffix)}`;
  }
  for (const char of name.slice(0, dot)) {
    if (!nameCharacters.test(char)) return `invalid character ${goRune(char)} in unit name`;
  }
  if (name.startsWith('@')) return 'unit name cannot start in "@"';
  return undefined;
}

/**
 * What fleet's fleetctl says about `[X-Fleet]` options that cannot go together (its
 * `api.ValidateOptions`, in its order), or `undefined`: `MachineID cannot be used with Global`,
 * `unresolvable requirements: peer "db.service" matches conflict "db*"`... The server checks more;
 * this only gives fleet's words to what fleet's client refuses itself.
 */
export function unitOptionsError(name: string, file: UnitFile): string | undefined {
  let req;
  try {
    req = parseRequirements(name as UnitName, file);
  } catch {
    // Whatever the parser refuses, the server refuses too, with its reason.
    return undefined;
  }
  for (const peer of req.machineOf) {
    for (const conflict of req.conflicts) {
      if (globMatch(conflict, peer)) return `unresolvable requirements: peer ${goQuote(peer)} matches conflict ${goQuote(conflict)}`;
    }
  }
  for (const peer of req.machineOf) {
    for (const replace of req.replaces) {
      if (globMatch(replace, peer)) return `unresolvable requirements: peer ${goQuote(peer)} matches replace ${goQuote(replace)}`;
    }
  }
  const id = req.machineId !== undefined && req.machineId !== '';
  const peers = req.machineOf.length > 0;
  const conflicts = req.conflicts.length > 0;
  const replaces = req.replaces.length > 0;
  const rules: readonly (readonly [boolean, string])[] = [
    [id && peers, 'MachineID cannot be used with Peers'],
    [id && conflicts, 'MachineID cannot be used with Conflicts'],
    [id && req.global, 'MachineID cannot be used with Global'],
    [id && replaces, 'MachineID cannot be used with Replaces'],
    [req.global && peers, 'Global cannot be used with Peers'],
    [req.global && replaces, 'Global cannot be used with Replaces'],
    [conflicts && replaces, 'Conflicts cannot be used with Replaces'],
  ];
  return rules.find(([broken]) => broken)?.[1];
}

/** Go's `%q` of a rune: `'!'`. */
function goRune(char: string): string {
  return `'${char === "'" || char === '\\' ? `\\${char}` : char}'`;
}
