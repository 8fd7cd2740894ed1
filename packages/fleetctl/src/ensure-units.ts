import { FleetError } from '@fleet/core';
import type { FleetErrorCode } from '@fleet/core';
import { hashUnitFile, storedUnitFile } from '@fleet/core/model';
import type { UnitFile } from '@fleet/core/model';
import type { ApiUnit } from './api-client.js';
import { goError } from './fleet-text.js';
import { unknownRequirementWarning } from './requirement-warnings.js';
import { unitNameError, unitOptionsError } from './fleet-validate.js';
import { appendDefaultType, localTemplatePath, readLocalUnit, templateNameOf, unitNameMangle } from './unit-source.js';
import type { ReadTextFile } from './unit-source.js';
import { waitForUnitStates } from './wait.js';
import type { WaitContext } from './wait.js';

/**
 * A unit could not be created; `message` is what fleet prints after `Error creating units: `,
 * `detail` what we know beyond it (a parse error's line), for a terminal.
 */
export class CreateUnitsError extends FleetError {
  override readonly name = 'CreateUnitsError';
  constructor(code: FleetErrorCode, message: string, readonly detail?: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * The commands that create units, for what `--replace` may do (fleet's `checkReplaceUnitState`;
 * `restart` creates without `--replace`).
 */
export type CreatingCommand = 'submit' | 'load' | 'start' | 'restart';

/** How {@link createUnits} behaves. */
export interface CreateOptions {
  readonly wait: WaitContext;
  readonly readFile: ReadTextFile;
  /** `--replace`: re-create registered units whose local file differs. */
  readonly replace: boolean;
  readonly command: CreatingCommand;
  /** fleet's `--block-attempts` as given, for the wait for `inactive` after a create (≤ 0: forever). */
  readonly attempts: number;
}

/** The desired states `--replace` may re-create a unit in, per command (fleet's rule). */
const replaceableIn: Readonly<Record<CreatingCommand, readonly string[]>> = {
  submit: ['inactive'],
  load: ['inactive', 'loaded'],
  start: ['inactive', 'loaded', 'launched'],
  restart: [],
};

/**
 * fleet's `lazyCreateUnits`: makes sure a unit exists in the registry for every argument, in
 * order. A registered unit is kept (with a warning on stderr when the local file differs, unless
 * `--replace` re-creates it: then `Found same Unit(x) in Registry, nothing to do` when it does
 * not differ). A missing one is created from its local file, else (an instance) from its template
 * in the registry, else from a local template next to the argument. Created units are then waited
 * for until they report `inactive` (`Unit x inactive`). Resolves the names created or re-created.
 * Rejects with a `FleetError` whose message is what fleet prints after `Error creating units: `,
 * at the first argument that fails (units created before it stay, unreported, as in fleet).
 */
export async function createUnits(args: readonly string[], options: CreateOptions): Promise<Set<string>> {
  const created: string[] = [];
  for (const given of args) {
    const arg = appendDefaultType(given);
    const name = unitNameMangle(arg);
    if (!(await needsCreating(arg, name, options))) continue;
    await createUnit(name, await unitFileFor(arg, name, options), options);
    created.push(name);
  }
  const failure = await waitForUnitStates(options.wait, created, 'create', 'inactive', options.attempts < 0 ? 0 : options.attempts);
  if (failure !== undefined) {
    options.wait.output.err(`Error waiting on unit creation: ${failure.message}\n`);
    throw new FleetError('TIMEOUT', 'One or more errors creating units');
  }
  return new Set(created);
}

/** fleet's `checkUnitCreation`: whether the unit must be created (or re-created by `--replace`). */
async function needsCreating(arg: string, name: string, options: CreateOptions): Promise<boolean> {
  const { wait, replace } = options;
  let unit: ApiUnit | undefined;
  try {
    unit = await wait.client.getUnit(name);
  } catch (err) {
    throw new FleetError('API_ERROR', `error retrieving Unit(${name}) from Registry: ${goError(err)}`, { cause: err });
  }
  if (unit === undefined) return true;
  const different = await differsFromLocal(arg, unit, options);
  if (!replace) return false;
  if (typeof different === 'string') throw new FleetError('INVALID_REQUEST', different);
  if (!different) {
    wait.output.out(`Found same Unit(${unit.name}) in Registry, nothing to do\n`);
    return false;
  }
  if (replaceableIn[options.command].includes(unit.desiredState)) return true;
  wait.output.err(`Warning: can not replace Unit(${unit.name}) in state '${unit.desiredState}', use the appropriate command\n`);
  return false;
}

/**
 * fleet's `isLocalUnitDifferent`: compares the registered unit with the local file `arg`, or, when
 * there is none and `arg` is an instance, with its local template. Without `--replace`, a
 * difference is a warning on stderr. Resolves whether they differ, or (no local file to compare
 * with) fleet's reason, which only `--replace` turns into an error. A local file that does not
 * parse counts as different, as in fleet.
 */
async function differsFromLocal(arg: string, unit: ApiUnit, options: CreateOptions): Promise<boolean | string> {
  const warn = (what: string): void => {
    if (!options.replace) options.wait.output.err(`WARNING: Unit ${unit.name} in registry differs from ${what} ${arg}. Add --replace to override.\n`);
  };
  const own = await readLocalUnit(arg, options.readFile);
  if (own.kind !== 'missing') {
    const different = own.kind === 'invalid' || hashUnitFile(asStored(own.file)) !== hashUnitFile(unit.options);
    if (different) warn('local unit file');
    return different;
  }
  const template = templateNameOf(unitNameMangle(arg));
  if (template === undefined) return `error Unit ${arg} does not seem to be a template unit`;
  const path = localTemplatePath(arg, template);
  const local = await readLocalUnit(path, options.readFile);
  if (local.kind === 'missing') return `stat ${path}: no such file or directory`;
  const different = local.kind === 'invalid' || hashUnitFile(asStored(local.file)) !== hashUnitFile(unit.options);
  if (different) warn('local template unit file');
  return different;
}

/** fleet's `getUnitFile`: the local file, else (an instance) its template's options. */
async function unitFileFor(arg: string, name: string, options: CreateOptions): Promise<UnitFile> {
  const own = await readLocalUnit(arg, options.readFile);
  if (own.kind === 'found') return own.file;
  if (own.kind === 'invalid') throw new CreateUnitsError('INVALID_UNIT_FILE', `failed getting Unit(${arg}) from file: ${own.message}`, own.detail);
  const template = templateNameOf(name);
  if (template === undefined) throw new FleetError('UNIT_NOT_FOUND', `unable to find Unit(${name}) in Registry or on filesystem`);
  try {
    return await templateFile(arg, template, options);
  } catch (err) {
    const detail = err instanceof CreateUnitsError ? err.detail : undefined;
    throw new CreateUnitsError('UNIT_NOT_FOUND', `failed getting Unit(${arg}) from template: ${err instanceof Error ? err.message : String(err)}`, detail, { cause: err });
  }
}

/** fleet's `getUnitFileFromTemplate`: the registered template (warning if the local one differs), else the local one. */
async function templateFile(arg: string, template: string, options: CreateOptions): Promise<UnitFile> {
  let registered: ApiUnit | undefined;
  try {
    registered = await options.wait.client.getUnit(template);
  } catch (err) {
    throw new FleetError('API_ERROR', `error retrieving template Unit(${template}) from Registry: ${goError(err)}`, { cause: err });
  }
  if (registered !== undefined) {
    await differsFromLocal(arg, registered, options);
    return registered.options;
  }
  const local = await readLocalUnit(localTemplatePath(arg, template), options.readFile);
  if (local.kind === 'missing') throw new FleetError('UNIT_NOT_FOUND', `unable to find template Unit(${template}) in Registry or on filesystem`);
  if (local.kind === 'invalid') throw new CreateUnitsError('INVALID_UNIT_FILE', `unable to load template Unit(${template}) from file: ${local.message}`, local.detail);
  return local.file;
}

/**
 * fleet's `createUnit`: checks the name and the `[X-Fleet]` options as fleet's client does, then
 * creates the unit without a desired state (the API stores `inactive`; for a registered unit whose
 * file differs, `--replace`, it replaces the file and the unit is `inactive` again).
 */
async function createUnit(name: string, file: UnitFile, options: CreateOptions): Promise<void> {
  const problem = unitNameError(name) ?? unitOptionsError(name, file);
  if (problem !== undefined) throw new FleetError('INVALID_UNIT_FILE', problem);
  const warning = unknownRequirementWarning(name, file, options.wait.clock);
  if (warning !== undefined) options.wait.output.err(warning);
  try {
    await options.wait.client.createUnit(name, file);
  } catch (err) {
    throw new FleetError('API_ERROR', `failed creating unit ${name}: ${goError(err)}`, { cause: err });
  }
}

/**
 * The file as the registry will hold it (fleet stores units as text and parses them again, which
 * changes a trailing backslash, for one), so that such a file still compares as unchanged; the
 * file itself when it cannot be stored (the API then says why).
 */
function asStored(file: UnitFile): UnitFile {
  try {
    return storedUnitFile(file);
  } catch (err) {
    if (err instanceof FleetError) return file;
    throw err;
  }
}
