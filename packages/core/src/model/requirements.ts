import { parseBooleanWord } from './boolean-word.js';
import { globMatch } from './glob.js';
import type { UnitFile } from './unit-file.js';
import { unitNameParts } from './unit-name.js';
import type { UnitName } from './unit-name.js';

/**
 * The `[X-Fleet]` section of a unit, parsed once into typed scheduling requirements, with systemd
 * specifiers (`%n %N %p %i`) already resolved for the unit's own name. Deprecated spellings
 * (`X-ConditionMachineID`, `X-ConditionMachineOf`, `X-ConditionMachineMetadata`, `X-Conflicts`)
 * are folded into the same fields.
 */
export interface Requirements {
  /** `MachineID=`: the machine the unit must run on (full or unambiguous short ID). */
  readonly machineId: string | undefined;
  /** `MachineOf=`: units this one must run next to (exact names). */
  readonly machineOf: readonly UnitName[];
  /**
   * `MachineMetadata=k=v`: for each key, the values a machine may have (OR within a key);
   * every key must be satisfied (AND across keys). Pairs with an empty key or value are ignored.
   */
  readonly metadata: ReadonlyMap<string, readonly string[]>;
  /** `Conflicts=`: globs (Go `path.Match`) of units this one must not share a machine with. */
  readonly conflicts: readonly string[];
  /**
   * Ours, `ConflictsScope=<metadata key>`: `Conflicts=` applies to every machine sharing this
   * machine's value of the key (e.g. `rack`), not just to this machine. Symmetric like `Conflicts=`.
   */
  readonly conflictsScope: string | undefined;
  /** `Replaces=`: globs of units this one displaces from the machine it is placed on. */
  readonly replaces: readonly string[];
  /** `Global=`: run on every machine that matches metadata and has no conflict. */
  readonly global: boolean;
  /**
   * Ours, `SpreadBy=<metadata key>`: among the machines that pass every rule, prefer those whose
   * value of the key is least used by the unit's siblings (instances of the same template),
   * then the least-loaded. A preference, never a reason not to run.
   */
  readonly spreadBy: string | undefined;
  /**
   * Ours, `AtMostOnce=true`: the unit never runs on two machines, not even for a moment. The agent
   * stops it before its machine's lease can expire when it cannot renew that lease (an etcd outage
   * stops it too), and the engine starts it elsewhere only {@link atMostOnceHoldMs} after the
   * machine disappeared. Without it a unit keeps running through etcd outages and partitions.
   */
  readonly atMostOnce: boolean;
}

/** A unit with no `[X-Fleet]` requirements. */
export const noRequirements: Requirements = {
  machineId: undefined,
  machineOf: [],
  metadata: new Map(),
  conflicts: [],
  conflictsScope: undefined,
  replaces: [],
  global: false,
  spreadBy: undefined,
  atMostOnce: false,
};

/** The section fleet reads scheduling options from. */
export const fleetSection = 'X-Fleet';

/** Every option we honour, by canonical name, with the spellings accepted for it (modern first). */
const spellings = {
  MachineID: ['MachineID', 'X-ConditionMachineID'],
  MachineOf: ['MachineOf', 'X-ConditionMachineOf'],
  MachineMetadata: ['MachineMetadata', 'X-ConditionMachineMetadata'],
  Conflicts: ['Conflicts', 'X-Conflicts'],
  Replaces: ['Replaces'],
  Global: ['Global'],
  ConflictsScope: ['ConflictsScope'],
  SpreadBy: ['SpreadBy'],
  AtMostOnce: ['AtMostOnce'],
} as const;
type FleetOption = keyof typeof spellings;

const optionBySpelling = new Map<string, FleetOption>(
  Object.entries(spellings).flatMap(([option, names]) => names.map((n) => [n, option as FleetOption] as const)),
);

// Deprecated: a boot ID names no machine (fleet's RequiredTarget would fall back to it as a machine ID
// no machine has, leaving the unit unschedulable). Accepted and ignored so that old unit files still run.
const ignoredOptions = new Set(['X-ConditionMachineBootID']);

/**
 * Resolves the systemd specifiers fleet supports in `[X-Fleet]` values, for the unit `name`:
 * `%n` the full name, `%N` the name without its type suffix, `%p` the prefix (the part before `@`,
 * or the name without suffix for a non-instance), `%i` the instance (empty for a non-instance) and
 * `%%` a literal `%`. Any other `%x` is left as written, as fleet does. Pure.
 */
export function resolveSpecifiers(value: string, name: UnitName): string {
  const { prefix, instance } = unitNameParts(name);
  const withoutSuffix = name.slice(0, name.lastIndexOf('.'));
  // One pass, so that text produced by one specifier is never read as another.
  return value.replace(/%([nNpi%])/g, (_, s: string) => {
    switch (s) {
      case 'n': return name;
      case 'N': return withoutSuffix;
      case 'p': return prefix;
      case 'i': return instance ?? '';
      default: return '%';
    }
  });
}

/**
 * Splits a multi-valued option's value into words: whitespace separates words, double quotes keep
 * whitespace inside a word and are removed (`"region=us east" a` → `region=us east`, `a`). Empty
 * words are dropped; an unterminated quote runs to the end of the value. Pure.
 */
export function splitWords(value: string): string[] {
  const words: string[] = [];
  let word = '';
  let quoted = false;
  for (const c of value) {
    if (c === '"') quoted = !quoted;
    else if (!quoted && /\s/u.test(c)) {
      if (word !== '') words.push(word);
      word = '';
    } else word += c;
  }
  if (word !== '') words.push(word);
  return words;
}

/** The `[X-Fleet]` options of one unit, with specifiers resolved, grouped by canonical option. */
interface Reading {
  /** Values in file order, per option, every spelling folded together. */
  readonly values: ReadonlyMap<FleetOption, readonly string[]>;
  /** The spelling the file used first, per option, so that messages quote the user's own text. */
  readonly spelling: ReadonlyMap<FleetOption, string>;
}

/** Reads the options; specifiers are resolved for `name`, or left as written when `name` is undefined. */
function read(name: UnitName | undefined, file: UnitFile): Reading {
  const values = new Map<FleetOption, string[]>();
  const spelling = new Map<FleetOption, string>();
  for (const o of file) {
    if (o.section !== fleetSection) continue;
    const option = optionBySpelling.get(o.name);
    if (option === undefined) continue; // unknown or ignored
    if (!spelling.has(option)) spelling.set(option, o.name);
    const list = values.get(option) ?? [];
    list.push(name === undefined ? o.value.trim() : resolveSpecifiers(o.value.trim(), name));
    values.set(option, list);
  }
  return { values, spelling };
}

/** Every word of every value of a multi-valued option, once each, in file order. */
function words(r: Reading, option: FleetOption): string[] {
  return [...new Set((r.values.get(option) ?? []).flatMap(splitWords))];
}

/** The values of a single-valued option, each with one pair of surrounding quotes removed. */
function singles(r: Reading, option: FleetOption): string[] {
  return (r.values.get(option) ?? []).map((v) => (v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v));
}

/** The last value of a single-valued option (fleet: the last one wins); `undefined` if absent or empty. */
function last(r: Reading, option: FleetOption): string | undefined {
  const value = singles(r, option).at(-1);
  return value === '' ? undefined : value;
}

function metadataOf(r: Reading): Map<string, string[]> {
  const metadata = new Map<string, string[]>();
  for (const pair of words(r, 'MachineMetadata')) {
    const eq = pair.indexOf('=');
    if (eq === -1) continue;
    const key = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    if (key === '' || value === '') continue; // fleet ignores such pairs
    const values = metadata.get(key) ?? [];
    if (!values.includes(value)) values.push(value);
    metadata.set(key, values);
  }
  return metadata;
}

/**
 * Reads the `[X-Fleet]` section of the unit `name` into {@link Requirements}, resolving specifiers
 * against `name` (so a template's instances each get their own). Lenient, like fleet's scheduler:
 * unknown options are skipped, `MachineMetadata=` pairs with an empty key or value are ignored, a
 * `Global=` value that is not truthy is false, a malformed glob matches nothing, and a `MachineOf=`
 * value that names no unit (the unit itself, or not a unit name at all) is kept: no unit is ever
 * placed under that name, so the unit waits, as in fleet. Multi-valued options may repeat and every
 * value is split by {@link splitWords}; for `MachineID=`, `Global=`, `ConflictsScope=` and
 * `SpreadBy=` the last value in the file wins. Pure.
 */
export function parseRequirements(name: UnitName, file: UnitFile): Requirements {
  return requirementsOf(read(name, file));
}

/**
 * The `[X-Fleet]` option names of `file` that we do not know, once each, in file order (options
 * are case-sensitive: `machineid=` is unknown). Such options are accepted and ignored, as in fleet,
 * whose fleetctl warns about them when it creates the unit. Pure.
 */
export function unknownRequirementOptions(file: UnitFile): string[] {
  const unknown: string[] = [];
  for (const o of file) {
    if (o.section !== fleetSection || ignoredOptions.has(o.name) || optionBySpelling.has(o.name)) continue;
    if (!unknown.includes(o.name)) unknown.push(o.name);
  }
  return unknown;
}

function requirementsOf(r: Reading): Requirements {
  if (r.values.size === 0) return noRequirements;
  return {
    machineId: last(r, 'MachineID'),
    // Compared with unit names only, never used as a key: a value that names no unit matches none.
    machineOf: words(r, 'MachineOf') as UnitName[],
    metadata: metadataOf(r),
    conflicts: words(r, 'Conflicts'),
    conflictsScope: last(r, 'ConflictsScope'),
    replaces: words(r, 'Replaces'),
    global: parseBooleanWord(last(r, 'Global') ?? '') === true,
    spreadBy: last(r, 'SpreadBy'),
    atMostOnce: parseBooleanWord(last(r, 'AtMostOnce') ?? '') === true,
  };
}

/** A value as it appears in a message: verbatim when plain, JSON-quoted when it could mislead or span lines. */
function show(value: string): string {
  return /^[\x21-\x7e]+$/u.test(value) && !value.includes('"') ? value : JSON.stringify(value);
}

/**
 * Every reason the `[X-Fleet]` section of a unit cannot be accepted, as single-line messages
 * naming the options involved (in the spelling the file used); empty when the unit is valid. This is
 * the submit-time check (HTTP 400). It refuses what fleet refuses (contradictory options, a
 * `MachineOf=` peer that the unit's own `Conflicts=`/`Replaces=` match) and malformed values of our
 * own options (`ConflictsScope=`, `SpreadBy=`), and accepts everything else fleet accepts: unknown
 * options ({@link unknownRequirementOptions}; fleetctl warns about them), malformed globs, a
 * `Global=` that is not a boolean, a `MachineOf=` that names no unit. It does not look at other
 * units: a circular `Replaces=` across units is accepted and left to the scheduler. Like fleet, it
 * reads the values as written, specifiers unresolved. Pure.
 */
export function requirementsProblems(file: UnitFile): string[] {
  // fleet validates the options of a unit without its name, so with specifiers as written: a
  // template's `MachineOf=%n` is not matched by its `Conflicts=%p@*` (the instances' would be).
  const r = read(undefined, file);
  const req = requirementsOf(r);
  const label = (option: FleetOption): string => `${r.spelling.get(option) ?? option}=`;
  const problems: string[] = [];

  const machineOf = words(r, 'MachineOf');
  const present: Record<FleetOption, boolean> = {
    MachineID: req.machineId !== undefined,
    MachineOf: machineOf.length > 0,
    MachineMetadata: req.metadata.size > 0,
    Conflicts: req.conflicts.length > 0,
    Replaces: req.replaces.length > 0,
    Global: req.global,
    ConflictsScope: r.values.has('ConflictsScope'),
    SpreadBy: r.values.has('SpreadBy'),
    AtMostOnce: req.atMostOnce,
  };
  const exclusive: readonly (readonly [FleetOption, FleetOption])[] = [
    // A pinned unit has no choice of machine: every other placement rule is moot or contradictory.
    ['MachineID', 'MachineOf'], ['MachineID', 'Conflicts'], ['MachineID', 'Global'], ['MachineID', 'Replaces'],
    ['MachineID', 'ConflictsScope'], ['MachineID', 'SpreadBy'],
    // A global unit runs everywhere, so it can follow no peer and displace nothing.
    ['Global', 'MachineOf'], ['Global', 'Replaces'],
    ['Conflicts', 'Replaces'],
  ];
  for (const [a, b] of exclusive) {
    if (present[a] && present[b]) problems.push(`${label(a)} cannot be combined with ${label(b)}`);
  }

  for (const target of machineOf) {
    for (const option of ['Conflicts', 'Replaces'] as const) {
      for (const glob of option === 'Conflicts' ? req.conflicts : req.replaces) {
        if (globMatch(glob, target)) {
          problems.push(`unresolvable requirements: ${label('MachineOf')}${show(target)} is matched by ${label(option)}${show(glob)}`);
        }
      }
    }
  }

  for (const option of ['ConflictsScope', 'SpreadBy'] as const) {
    for (const key of singles(r, option)) {
      const problem = metadataKeyProblem(key);
      if (problem !== undefined) problems.push(`${label(option)}${show(key)} is not a valid metadata key: ${problem}`);
    }
  }
  // Ours, so strict: a misspelt `AtMostOnce=yes please` must not silently mean "may run twice".
  for (const value of singles(r, 'AtMostOnce')) {
    if (value !== '' && parseBooleanWord(value) === undefined) problems.push(`${label('AtMostOnce')}${show(value)} is not a boolean (use true or false)`);
  }
  return [...new Set(problems)];
}

/**
 * How much earlier than its lease's expiry an agent stops its at-most-once units when it cannot
 * renew the lease, and how much longer than a lease TTL the engine waits before it starts them
 * elsewhere: a quarter of the TTL, at least 1 s (room for a slow keepalive, clock rate drift and
 * the stop itself).
 */
export function atMostOnceMarginMs(ttlMs: number): number {
  return Math.max(1_000, ttlMs / 4);
}

/**
 * How long after the engine sees a machine disappear it waits before starting that machine's
 * at-most-once units elsewhere: the lease TTL plus {@link atMostOnceMarginMs}. The agent stopped
 * them a margin before the lease expired; the extra TTL covers a stop that takes time and an
 * engine that saw the expiry late.
 */
export function atMostOnceHoldMs(ttlMs: number): number {
  return ttlMs + atMostOnceMarginMs(ttlMs);
}

/** Why `key` cannot name a machine metadata key (fleet's `metadata=k=v,k=v` syntax), or `undefined`. */
function metadataKeyProblem(key: string): string | undefined {
  if (key === '') return 'it is empty';
  if (/[=,\s]/u.test(key)) return 'it may not contain "=", "," or whitespace';
  return undefined;
}
