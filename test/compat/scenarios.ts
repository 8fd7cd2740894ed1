import type { Step } from './lockstep.js';

/**
 * What fleet's users do with fleetctl, as steps that must give the same exit code and output on
 * our cluster as on the original fleet (units from `test/compat/units/`, three machines with
 * metadata rack=r1, rack=r1, rack=r2). Listings of systemd states settle on their own after a
 * command returns, so they are compared once both clusters agree (`settle`).
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
  { args: ['start', 'one@1.service', 'one@2.service', 'one@3.service'], unordered: true },
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
  { args: ['list-unit-files', '--fields', 'unit,dstate,state'], settle: true },
  { args: ['start', '--no-block', 'one@2.service', 'one@3.service'], unordered: true },
  { args: ['list-units', '--fields', 'unit,active,sub'], settle: true },
  { args: ['load', '--no-block', 'a.service'] },
  { args: ['unload', '--no-block', 'a.service'] },
  { args: ['list-unit-files', '--fields', 'unit,dstate,state'], settle: true },
  // Metadata, a global unit, --no-block.
  { args: ['start', 'rack2.service'] },
  { args: ['list-units', '--fields', 'unit,active'], settle: true },
  { args: ['start', 'everywhere.service'] },
  { args: ['list-units', '--fields', 'unit,active,sub'], settle: true },
  { args: ['list-unit-files', '--fields', 'unit,global,dstate,state'], settle: true },
  { args: ['start', '--no-block', 'c.service'] },
  { args: ['list-unit-files', '--fields', 'unit,dstate,state'], settle: true },
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
  { args: ['list-unit-files'], settle: true },
  { args: ['list-units'], settle: true },
  { args: ['version'] },
];
