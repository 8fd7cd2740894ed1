import { InvalidUnitNameError } from '../errors.js';

/** A unit name that passed {@link parseUnitName}: safe to use as a file name and an etcd key segment. */
export type UnitName = string & { readonly __brand: 'UnitName' };

/** Unit types fleet accepts (FLEET.md §1.4). */
export const unitSuffixes = [
  'automount', 'busname', 'device', 'mount', 'path', 'scope', 'service',
  'slice', 'snapshot', 'socket', 'swap', 'target', 'timer',
] as const;

/** Unit types that may be templates (`foo@.service`). */
export const templateSuffixes = ['path', 'service', 'socket', 'target', 'timer'] as const;

const maxLength = 256;
// fleet's validChars: `\` too, which systemd's escaped names use (`mnt-a\x2db.mount` for /mnt/a-b).
const allowed = /^[A-Za-z0-9:_.@\\-]+$/;

/**
 * Why `name` is not a valid unit name, or `undefined` when it is. Pure. The rules (fleet's
 * `api.ValidateName`, as measured on fleet): 1 to 256 characters from `[A-Za-z0-9:_.@\\-]`, not
 * starting with `@`, ending in `.<type>` for a known unit type with a non-empty name before it; a
 * name with `@` (a template or an instance) must have a template-capable type.
 */
export function unitNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'name is empty';
  if (name.length > maxLength) return `name is longer than ${maxLength} characters`;
  if (!allowed.test(name)) return 'name may only contain letters, digits, ":", "_", ".", "@", "-" and "\\"';
  if (name.startsWith('@')) return 'name cannot start with "@"';
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return 'name must end in a unit type suffix such as ".service"';
  // "." and ".." cannot pass the suffix rule, but say so plainly: a name must never be a path.
  if (name === '.' || name === '..') return 'name cannot be a path';
  const suffix = name.slice(dot + 1);
  if (!(unitSuffixes as readonly string[]).includes(suffix)) return `unknown unit type ".${suffix}"`;
  // Like fleet and systemd, an instance may itself contain "@" (`a@b@c.service` is an instance of `a@.service`).
  if (name.slice(0, dot).includes('@') && !(templateSuffixes as readonly string[]).includes(suffix)) {
    return `".${suffix}" units cannot be templates`;
  }
  return undefined;
}

/** Validates a unit name. Throws {@link InvalidUnitNameError} naming the rule it breaks. */
export function parseUnitName(name: string): UnitName {
  const problem = unitNameProblem(name);
  if (problem !== undefined) throw new InvalidUnitNameError(name, problem);
  return name as UnitName;
}

/**
 * fleetctl's rule (FLEET.md §1.2): a name with no unit type suffix gets ".service". fleet itself only
 * recognised 7 types here (`foo.target` became `foo.target.service`); this accepts every type in
 * {@link unitSuffixes}.
 */
export function withDefaultSuffix(name: string): string {
  const dot = name.lastIndexOf('.');
  const suffix = dot === -1 ? '' : name.slice(dot + 1);
  return (unitSuffixes as readonly string[]).includes(suffix) ? name : `${name}.service`;
}

/**
 * Parts of a unit name: `foo@bar.service` has prefix `foo`, instance `bar`, suffix `service`. As in
 * fleet's `NewUnitNameInfo`, the instance is everything between the first `@` and the last `.`.
 */
export interface UnitNameParts {
  readonly prefix: string;
  /** `undefined` when the name has no `@`; `''` for a template (`foo@.service`). */
  readonly instance: string | undefined;
  readonly suffix: string;
}

/** Splits a valid unit name into its {@link UnitNameParts}. Pure. */
export function unitNameParts(name: UnitName): UnitNameParts {
  const dot = name.lastIndexOf('.');
  const stem = name.slice(0, dot);
  const at = stem.indexOf('@');
  return {
    prefix: at === -1 ? stem : stem.slice(0, at),
    instance: at === -1 ? undefined : stem.slice(at + 1),
    suffix: name.slice(dot + 1),
  };
}

/** True for `foo@.service`. */
export function isTemplate(name: UnitName): boolean {
  return unitNameParts(name).instance === '';
}

/** The template a unit is an instance of (`foo@1.service` → `foo@.service`), or `undefined`. */
export function templateOf(name: UnitName): UnitName | undefined {
  const { prefix, instance, suffix } = unitNameParts(name);
  if (instance === undefined || instance === '') return undefined;
  return `${prefix}@.${suffix}` as UnitName;
}
