import type { Step } from './lockstep.js';

/**
 * What fleet's users do with fleetctl, as steps that must give the same exit code and output on
 * our cluster as on the original fleet (units from `test/compat/units/`, three machines with
 * metadata rack=r1, rack=r1, rack=r2). Listings of systemd states settle on their own after a
 * command returns, so they are compared once both clusters agree (`settle`); after a command
 * that does not wait (`--no-block`, a global unit, `destroy`) both may agree on a state still in
 * transition, so those listings first wait until each side's output stays the same (`settle:
 * 'stable'`).
 */
export const lifecycleScenario: readonly Step[] = [
  // Machines, every flag.
  { args: ['list-machines'], unordered: true },
  { args: ['list-machines', '--full'], unordered: true },
  { args: ['list-machines', '--l'], unordered: true },
  { args: ['list-machines', '--no-legend'], unordered: true },
  { args: ['list-machines', '--fields', 'ip,machine'] },
  { args: ['list-machines', '--fields', 'metadata', '--full', '--no-legend'], unordered: true },
  { args: ['list-machines', '--fields', 'bogus'] },
  { args: ['list-machines'], endpointFromEnv: true, unordered: true },
  // Submit, cat, load, start, stop, unload one unit.
  { args: ['submit', 'a.service'] },
  { args: ['submit', 'a.service'] },
  { args: ['list-unit-files'] },
  { args: ['cat', 'a.service'] },
  { args: ['load', 'a.service'] },
  { args: ['list-unit-files'], settle: true },
  { args: ['list-units'], settle: true },
  { args: ['start', 'a.service', 'b.service'], unordered: true },
  { args: ['list-units'], settle: true },
  { args: ['list-unit-files', '--full', '--fields', 'unit,hash,dstate,state,target,global,desc'], settle: true },
  { args: ['list-units', '--full', '--no-legend', '--fields', 'unit,load,active,sub,hash,machine'], settle: true },
  { args: ['stop', 'a.service'] },
  { args: ['list-unit-files'], settle: true },
  { args: ['unload', 'a.service'] },
  { args: ['list-unit-files'], settle: true },
  { args: ['list-units'], settle: true, endpointFromEnv: true },
  // Template instances that conflict with each other: one per machine, the fourth never runs.
  // One at a time: fleet places units that arrive together in random order (its engine walks a
  // Go map), so where each instance lands would differ from run to run.
  { args: ['start', 'one@1.service'] },
  { args: ['start', 'one@2.service'] },
  { args: ['start', 'one@3.service'] },
  { args: ['list-units', '--fields', 'unit,load,active,sub,hash'], settle: true },
  { args: ['start', '--block-attempts', '3', 'one@4.service'] },
  { args: ['list-unit-files'], settle: true },
  { args: ['destroy', 'one@4.service'] },
  { args: ['restart', 'one@1.service'] },
  { args: ['restart', 'one@2.service', 'one@3.service'] },
  { args: ['list-units'], settle: true },
  // The template itself, several units at once without blocking.
  { args: ['submit', 'one@.service'] },
  { args: ['list-unit-files', '--fields', 'unit,dstate,state'], settle: true },
  { args: ['cat', 'one@.service'] },
  { args: ['stop', '--no-block', 'one@2.service', 'one@3.service'], unordered: true },
  { args: ['list-unit-files', '--fields', 'unit,dstate,state'], settle: 'stable' },
  { args: ['start', '--no-block', 'one@2.service', 'one@3.service'], unordered: true },
  { args: ['list-units', '--fields', 'unit,active,sub'], settle: 'stable' },
  { args: ['load', '--no-block', 'a.service'] },
  // fleet's unload decides from the current state: wait until the load has happened.
  { args: ['list-unit-files', '--fields', 'unit,dstate,state'], settle: 'stable' },
  { args: ['unload', '--no-block', 'a.service'] },
  { args: ['list-unit-files', '--fields', 'unit,dstate,state'], settle: 'stable' },
  // Several units at once, each pinned to its machine.
  { args: ['start', 'pin1.service', 'pin3.service'], unordered: true },
  { args: ['list-units', '--fields', 'unit,machine,active'], settle: true },
  { args: ['stop', 'pin1.service', 'pin3.service'], unordered: true },
  { args: ['destroy', 'pin1.service', 'pin3.service'] },
  // Metadata, a global unit, --no-block.
  { args: ['start', 'rack2.service'] },
  { args: ['list-units', '--fields', 'unit,active'], settle: 'stable' },
  { args: ['start', 'everywhere.service'] },
  { args: ['list-units', '--fields', 'unit,active,sub'], settle: 'stable' },
  { args: ['list-unit-files', '--fields', 'unit,global,dstate,state'], settle: true },
  { args: ['start', '--no-block', 'c.service'] },
  { args: ['list-unit-files', '--fields', 'unit,dstate,state'], settle: 'stable' },
  // In-place update with --replace.
  { args: ['start', 'upd.service'] },
  { args: ['cat', 'upd.service'] },
  { args: ['start', 'upd.service'], dir: 'v2' },
  { args: ['cat', 'upd.service'] },
  { args: ['start', '--replace', 'upd.service'], dir: 'v2' },
  { args: ['cat', 'upd.service'] },
  { args: ['list-unit-files', '--full', '--fields', 'unit,hash,dstate,state'], settle: true },
  { args: ['list-units', '--full', '--fields', 'unit,hash,active'], settle: true },
  // Errors and the end.
  { args: ['cat', 'nope.service'] },
  { args: ['stop', 'nope.service'] },
  { args: ['destroy', 'nope.service'] },
  { args: ['start', 'missing-file.service'] },
  { args: ['destroy', 'a.service', 'b.service', 'c.service', 'one@1.service', 'one@2.service', 'one@3.service', 'one@.service', 'rack2.service', 'everywhere.service', 'upd.service'] },
  { args: ['list-unit-files'], settle: 'stable' },
  { args: ['list-units'], settle: 'stable' },
  { args: ['version'] },
];

/** A step run with the unit files of `test/compat/units/errors/`. */
const inErrors = (args: readonly string[], more: Partial<Step> = {}): Step => ({ args, dir: 'errors', ...more });

const deadEndpoint = 'unix:///nonexistent/fleet.sock';

/**
 * What fleet's fleetctl prints when things go wrong, step by step: no arguments, units that are
 * not registered, unit files fleet's client refuses, templates, units in the wrong state, waits
 * that fail, bad listing flags, endpoints that cannot be reached, command lines cobra refuses.
 * Unit files come from `test/compat/units/errors/` (names `err-*`). Every unit it creates is
 * destroyed again, so that a second run starts from the same cluster (see `runInTurn`).
 */
export const errorScenario: readonly Step[] = [
  // No arguments: fleet's unit commands say so and succeed; cat and journal need exactly one.
  ...['submit', 'load', 'start', 'stop', 'unload', 'destroy', 'restart', 'status'].map((command) => ({ args: [command] })),
  { args: ['cat'] },
  { args: ['cat', 'a.service', 'b.service'] },
  { args: ['journal'] },
  { args: ['journal', 'a.service', 'b.service'] },
  // Not in the registry, nor on the file system.
  ...['cat', 'status', 'journal', 'stop', 'unload', 'destroy', 'restart', 'load', 'start', 'submit'].map((command) => ({ args: [command, 'err-nope.service'] })),
  { args: ['stop', 'err-nope.service', 'err-nope2.service'] },
  { args: ['start', 'err-nope@1.service'] },
  { args: ['submit', '@x.service'] },
  // Unit files fleet's client refuses: unparsable, conflicting [X-Fleet] options, no options.
  inErrors(['submit', 'err-section.service']),
  inErrors(['submit', 'err-garbage.service']),
  inErrors(['submit', 'err-option.service']),
  inErrors(['submit', 'err-eof.service']),
  inErrors(['submit', 'err-empty.service']),
  inErrors(['start', 'err-global-id.service']),
  inErrors(['load', 'err-peer-conflict.service']),
  inErrors(['submit', 'err-conflicts-replaces.service']),
  inErrors(['list-unit-files']),
  // Templates: submitted, but neither loaded nor started.
  inErrors(['submit', 'err-t@.service']),
  inErrors(['load', 'err-t@.service']),
  inErrors(['start', 'err-t@.service']),
  inErrors(['destroy', 'err-t@.service']),
  // A unit in the wrong state for the command; a local file that differs.
  inErrors(['submit', 'err-a.service']),
  inErrors(['stop', 'err-a.service']),
  inErrors(['restart', 'err-a.service']),
  inErrors(['status', 'err-a.service']),
  inErrors(['journal', 'err-a.service']),
  inErrors(['unload', 'err-a.service']),
  inErrors(['submit', 'err-a.service'], { dir: 'errors/v2' }),
  inErrors(['submit', '--replace', 'err-a.service']),
  inErrors(['submit', '--replace', 'err-a.service'], { dir: 'errors/v2' }),
  inErrors(['cat', 'err-a.service']),
  inErrors(['submit', 'err-g.service']),
  inErrors(['journal', 'err-g.service']),
  inErrors(['destroy', 'err-a.service', 'err-g.service', 'err-nope.service', 'err-a.service']),
  // Waits that fail: a unit no machine may run, a unit systemd cannot start.
  inErrors(['start', '--block-attempts', '2', 'err-never.service']),
  inErrors(['load', '--block-attempts', '2', 'err-never.service']),
  inErrors(['start', 'err-fail.service']),
  inErrors(['destroy', 'err-never.service', 'err-fail.service']),
  inErrors(['list-unit-files'], { settle: true }),
  // Listing flags.
  { args: ['list-units', '--fields', 'bogus'] },
  { args: ['list-units', '--fields', ''] },
  { args: ['list-units', '--fields', 'unit,'] },
  { args: ['list-machines', '--fields', 'machine, ip'] },
  { args: ['list-unit-files', '--fields', 'tmachine,bogus'] },
  { args: ['list-units', 'extra', 'arguments'] },
  // Endpoints that cannot be reached (a later --endpoint wins over the side's).
  ...[['list-units'], ['list-unit-files'], ['list-machines'], ['cat', 'x'], ['status', 'x'], ['stop', 'x'], ['destroy', 'x'], ['start', 'x']].map((args) => ({
    args: ['--endpoint', deadEndpoint, ...args],
  })),
  { args: ['--endpoint', 'unix://var/run/fleet.sock', 'list-units'] },
  { args: ['--endpoint', '', 'list-units'] },
  // Command lines cobra refuses: fleet exits 0 and prints the usage on stdout; stderr is the same.
  { args: ['bogus'], compare: 'stderr' },
  { args: ['st'], compare: 'stderr' },
  { args: ['list-units', '--bogus'], compare: 'stderr' },
  { args: ['list-units', '-x'], compare: 'stderr' },
  { args: ['list-units', '--fields'], compare: 'stderr' },
  { args: ['start', '--block-attempts', 'abc', 'x.service'], compare: 'stderr' },
  { args: ['list-units', '--full=maybe'], compare: 'stderr' },
  { args: ['help', 'bogus'], compare: 'stderr' },
  { args: ['verify', 'x.service'] },
  { args: ['list-unit-files'] },
];
