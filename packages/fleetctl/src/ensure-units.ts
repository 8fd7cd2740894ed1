import { FleetError } from '@fleet/core';
import type { FleetErrorCode } from '@fleet/core';
import { hashUnitFile, isTemplate, storedUnitFile } from '@fleet/core/model';
import type { UnitFile, UnitName } from '@fleet/core/model';
import type { ApiUnit, FleetApiClient, NewUnit } from './api-client.js';
import type { Output } from './output.js';
import { mapBounded, requestsInFlight, type Settled } from './unit-batch.js';
import { goError } from './fleet-text.js';
import { unknownRequirementWarning } from './requirement-warnings.js';
import { unitNameError, unitOptionsError } from './fleet-validate.js';
import { appendDefaultType, localTemplatePath, readLocalUnit, templateNameOf, unitNameMangle } from './unit-source.js';
import type { ReadTextFile } from './unit-source.js';
import { isGlobalUnit } from './unit-info.js';
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
  /**
   * The desired state the command sets right after creating (`load`, `start`). A unit that was not
   * registered is then created in it at once: one request instead of fleet's two (create
   * `inactive`, then set the state), and its `Unit X inactive` line is printed without asking
   * again (the create's answer says it is registered; fleet's first poll finds every new unit
   * inactive). Templates, and units `--replace` re-creates, go fleet's way.
   */
  readonly target?: 'loaded' | 'launched';
}

/** What {@link createUnits} did: every unit created or re-created, and those created straight in the command's target state. */
export interface CreatedUnits {
  readonly created: Set<string>;
  /** By name, each as it was before the command set its state (`inactive`, as fleet's setTargetStates reads it). */
  readonly inTarget: ReadonlyMap<string, ApiUnit>;
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
 * for until they report `inactive` (`Unit x inactive`), except those created in the command's
 * target, which are registered once created. Resolves what was created (see {@link CreatedUnits}).
 * Rejects with a `FleetError` whose message is what fleet prints after `Error creating units: `,
 * at the first argument that fails (units created before it stay, unreported, as in fleet).
 *
 * Unlike fleet, which reads and creates one unit after the other, the registry is read once (see
 * {@link RegisteredUnits}) and the creates are sent {@link requestsInFlight} at a time. The lines
 * are printed as fleet prints them: those of the arguments before a failed create, then the
 * failure. A failed create can leave up to {@link requestsInFlight} − 1 later units created (fleet
 * would not have sent them).
 */
export async function createUnits(args: readonly string[], options: CreateOptions): Promise<CreatedUnits> {
  const lines: BufferedLine[] = [];
  const buffered: CreateOptions = { ...options, wait: { ...options.wait, output: bufferInto(lines, () => plan.length) } };
  const names = args.map((given) => unitNameMangle(appendDefaultType(given)));
  const plan: { readonly name: string; readonly file: UnitFile; readonly inTarget: boolean }[] = [];
  let refused: unknown;
  try {
    const registry = await RegisteredUnits.read(options.wait.client, names);
    for (const [i, given] of args.entries()) {
      const arg = appendDefaultType(given);
      const name = names[i] as string;
      const why = await needsCreating(arg, name, buffered, registry);
      if (why === undefined) continue;
      const file = await unitFileFor(arg, name, buffered, registry);
      checkCreatable(name, file, buffered);
      registry.created(name, file);
      plan.push({ name, file, inTarget: options.target !== undefined && why === 'absent' && !isTemplate(name as UnitName) });
    }
  } catch (err) {
    refused = err;
  }
  const sent = await sendCreates(options.wait.client, plan.map((p) => ({ name: p.name, options: p.file, desiredState: p.inTarget ? options.target : undefined })));
  const failedAt = sent.findIndex((r) => r === undefined || !r.ok);
  const createdCount = failedAt < 0 ? plan.length : failedAt;
  for (const line of lines) if (line.before <= createdCount) options.wait.output[line.stream](line.text);
  const failed = failedAt < 0 ? undefined : sent[failedAt];
  if (failed !== undefined && !failed.ok) {
    throw new FleetError('API_ERROR', `failed creating unit ${(plan[failedAt] as { name: string }).name}: ${goError(failed.error)}`, { cause: failed.error });
  }
  if (refused !== undefined) throw refused;
  const inTarget = new Map<string, ApiUnit>();
  for (const p of plan) {
    if (!p.inTarget) continue;
    const unit: ApiUnit = { name: p.name, options: [...asStored(p.file)], desiredState: 'inactive', currentState: 'inactive' };
    // The API reports no current state for a global unit (fleet's line then ends in a space).
    const current = isGlobalUnit(unit) ? '' : 'inactive';
    inTarget.set(p.name, { ...unit, currentState: current });
    options.wait.output.out(`Unit ${p.name} ${current}\n`);
  }
  const waited = plan.filter((p) => !p.inTarget).map((p) => p.name);
  const failure = await waitForUnitStates(options.wait, waited, 'create', 'inactive', options.attempts < 0 ? 0 : options.attempts);
  if (failure !== undefined) {
    options.wait.output.err(`Error waiting on unit creation: ${failure.message}\n`);
    throw new FleetError('TIMEOUT', 'One or more errors creating units');
  }
  return { created: new Set(plan.map((p) => p.name)), inTarget };
}

/** Units per `POST /units`: a few hundred unit files stay far below the API's 1 MB body limit. */
const unitsPerCreateRequest = 200;

/**
 * Sends the creates: where there are several and the API has `POST /units` (ours), a request per
 * {@link unitsPerCreateRequest}; else, and for any unit such a request did not create (it came to
 * exist meanwhile) or after one failed, a PUT each, {@link requestsInFlight} at a time, so that a
 * failure is fleet's, at fleet's unit. One settled entry per unit, in order (see `mapBounded`).
 */
async function sendCreates(client: FleetApiClient, units: readonly NewUnit[]): Promise<Settled<void>[]> {
  const results: Settled<void>[] = new Array<Settled<void>>(units.length).fill(undefined);
  const oneByOne: number[] = [];
  let batching = units.length > 1;
  for (let start = 0; start < units.length; start += unitsPerCreateRequest) {
    const indexes = Array.from({ length: Math.min(unitsPerCreateRequest, units.length - start) }, (_, i) => start + i);
    const created = batching ? await client.createUnits(indexes.map((i) => units[i] as NewUnit)).catch(() => undefined) : undefined;
    if (created === undefined) batching = false;
    for (const i of indexes) {
      if (created?.get((units[i] as NewUnit).name) === true) results[i] = { ok: true, value: undefined };
      else oneByOne.push(i);
    }
  }
  const sent = await mapBounded(oneByOne, requestsInFlight, (i) => {
    const unit = units[i] as NewUnit;
    return client.createUnit(unit.name, unit.options, unit.desiredState);
  });
  for (const [k, i] of oneByOne.entries()) results[i] = sent[k];
  return results;
}

/** A line {@link createUnits} holds back until it knows the creates before it went through. */
interface BufferedLine {
  readonly stream: 'out' | 'err';
  readonly text: string;
  /** How many creates fleet would have sent before printing it. */
  readonly before: number;
}

function bufferInto(lines: BufferedLine[], creates: () => number): Output {
  return {
    out: (text) => lines.push({ stream: 'out', text, before: creates() }),
    err: (text) => lines.push({ stream: 'err', text, before: creates() }),
  };
}

/**
 * The registry as {@link createUnits} sees it: read once (one listing) when several units are
 * named, else one `GET` per lookup as fleet does; the units this command creates count as
 * registered from then on (a name given twice, a template created before its instance).
 */
class RegisteredUnits {
  private readonly mine = new Map<string, ApiUnit>();

  private constructor(
    private readonly client: FleetApiClient,
    /** Every registered unit, when read up front. */
    private readonly listed: ReadonlyMap<string, ApiUnit> | undefined,
  ) {}

  /** Rejects with fleet's message for the first name when the listing cannot be read. */
  static async read(client: FleetApiClient, names: readonly string[]): Promise<RegisteredUnits> {
    if (new Set(names).size <= 1) return new RegisteredUnits(client, undefined);
    try {
      return new RegisteredUnits(client, new Map((await client.listUnits()).map((u) => [u.name, u])));
    } catch (err) {
      throw new FleetError('API_ERROR', `error retrieving Unit(${names[0] ?? ''}) from Registry: ${goError(err)}`, { cause: err });
    }
  }

  /** The registered unit, `undefined` when there is none; rejects like the client. */
  async get(name: string): Promise<ApiUnit | undefined> {
    const mine = this.mine.get(name);
    if (mine !== undefined) return mine;
    return this.listed === undefined ? this.client.getUnit(name) : this.listed.get(name);
  }

  created(name: string, file: UnitFile): void {
    this.mine.set(name, { name, options: [...asStored(file)], desiredState: 'inactive', currentState: 'inactive' });
  }
}

/**
 * fleet's `checkUnitCreation`: whether the unit must be created (`absent`: it is not registered) or
 * re-created by `--replace` (`replace`); `undefined` when it stays as it is.
 */
async function needsCreating(arg: string, name: string, options: CreateOptions, registry: RegisteredUnits): Promise<'absent' | 'replace' | undefined> {
  const { wait, replace } = options;
  let unit: ApiUnit | undefined;
  try {
    unit = await registry.get(name);
  } catch (err) {
    throw new FleetError('API_ERROR', `error retrieving Unit(${name}) from Registry: ${goError(err)}`, { cause: err });
  }
  if (unit === undefined) return 'absent';
  const different = await differsFromLocal(arg, unit, options);
  if (!replace) return undefined;
  if (typeof different === 'string') throw new FleetError('INVALID_REQUEST', different);
  if (!different) {
    wait.output.out(`Found same Unit(${unit.name}) in Registry, nothing to do\n`);
    return undefined;
  }
  if (replaceableIn[options.command].includes(unit.desiredState)) return 'replace';
  wait.output.err(`Warning: can not replace Unit(${unit.name}) in state '${unit.desiredState}', use the appropriate command\n`);
  return undefined;
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
async function unitFileFor(arg: string, name: string, options: CreateOptions, registry: RegisteredUnits): Promise<UnitFile> {
  const own = await readLocalUnit(arg, options.readFile);
  if (own.kind === 'found') return own.file;
  if (own.kind === 'invalid') throw new CreateUnitsError('INVALID_UNIT_FILE', `failed getting Unit(${arg}) from file: ${own.message}`, own.detail);
  const template = templateNameOf(name);
  if (template === undefined) throw new FleetError('UNIT_NOT_FOUND', `unable to find Unit(${name}) in Registry or on filesystem`);
  try {
    return await templateFile(arg, template, options, registry);
  } catch (err) {
    const detail = err instanceof CreateUnitsError ? err.detail : undefined;
    throw new CreateUnitsError('UNIT_NOT_FOUND', `failed getting Unit(${arg}) from template: ${err instanceof Error ? err.message : String(err)}`, detail, { cause: err });
  }
}

/** fleet's `getUnitFileFromTemplate`: the registered template (warning if the local one differs), else the local one. */
async function templateFile(arg: string, template: string, options: CreateOptions, registry: RegisteredUnits): Promise<UnitFile> {
  let registered: ApiUnit | undefined;
  try {
    registered = await registry.get(template);
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
 * fleet's `createUnit`, up to the request: checks the name and the `[X-Fleet]` options as fleet's
 * client does and warns about unknown ones. The unit is then created without a desired state (the
 * API stores `inactive`; for a registered unit whose file differs, `--replace`, it replaces the
 * file and the unit is `inactive` again), or in the command's target (see {@link CreateOptions.target}).
 */
function checkCreatable(name: string, file: UnitFile, options: CreateOptions): void {
  const problem = unitNameError(name) ?? unitOptionsError(name, file);
  if (problem !== undefined) throw new FleetError('INVALID_UNIT_FILE', problem);
  const warning = unknownRequirementWarning(name, file, options.wait.clock);
  if (warning !== undefined) options.wait.output.err(warning);
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
