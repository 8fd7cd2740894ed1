import { hashUnitFile, isTargetState, isTemplate, parseUnitName, storedUnitFile, targetStates, unitFileProblem, unitNameProblem, type ScheduledUnit, type TargetState, type Unit, type UnitFile, type UnitName, type UnitOption, type UnitState, parseRequirements, requirementsProblems } from '@fleet/core/model';
import type { ClusterView } from '@fleet/core/registry';
import { apiError, methodNotAllowed, pageOf, withToken, type ApiDeps, type ApiRequest, type ApiResponse } from './request.js';
import type { WireUnit, WireUnitOption } from '@fleet/core/wire';

/**
 * `/units`: GET lists units a page at a time (a page costs O(page), whatever the cluster's size);
 * POST (ours) creates many units in one request (see {@link createMany}).
 */
export async function unitsCollection(req: ApiRequest, deps: ApiDeps): Promise<ApiResponse> {
  if (req.method === 'POST') return createMany(req, deps);
  if (req.method !== 'GET') return methodNotAllowed(req, ['GET', 'POST']);
  const view = await deps.cluster.view();
  const page = pageOf(req.query, deps.tokenLimit, view.unitCount);
  if (page === undefined) return apiError(400, 'invalid nextPageToken');
  // Everything from the view at once (it may be live), then the files.
  const records = view.units(page.offset, deps.tokenLimit).map((r) => ({ ...r, facts: factsOf(view, r.name) }));
  const files = await deps.cluster.unitFiles(records.map((r) => r.hash));
  const units: WireUnit[] = records.flatMap((r) => {
    const file = files.get(r.hash);
    return file === undefined ? [] : [toWireUnit(r.name, file, r.desiredState, r.facts)];
  });
  return { status: 200, body: withToken({ units }, page.next) };
}

/** `/units/<name>`: GET, PUT (create, replace or set the desired state), DELETE. */
export async function unitItem(req: ApiRequest, deps: ApiDeps, rawName: string): Promise<ApiResponse> {
  const allowed = ['GET', 'PUT', 'DELETE'];
  if (!allowed.includes(req.method)) return methodNotAllowed(req, allowed);
  // No unit can have an invalid name: reading or deleting one finds nothing (404, as in fleet, whose
  // fleetctl asks before it checks the name itself); writing one is refused with the rule (400).
  if (req.method !== 'PUT' && unitNameProblem(rawName) !== undefined) return apiError(404, `unit ${rawName} does not exist`);
  const name = parseUnitName(rawName); // FleetError → 400 with the rule broken
  switch (req.method) {
    case 'GET': {
      const view = await deps.cluster.view();
      const record = view.unit(name);
      const facts = factsOf(view, name);
      const file = record === undefined ? undefined : (await deps.cluster.unitFiles([record.hash])).get(record.hash);
      if (record === undefined && view.corruptKeysOf(name).length > 0) {
        // Ours: the unit exists, but its record cannot be read; it stays where it is meanwhile.
        return apiError(500, `the record of unit ${name} in etcd is corrupt (${view.corruptKeysOf(name).join(', ')}): the unit is left where it is until the record is fixed or the unit destroyed`);
      }
      if (record === undefined || file === undefined) return apiError(404, `unit ${name} does not exist`);
      return { status: 200, body: toWireUnit(name, file, record.desiredState, facts) };
    }
    case 'DELETE':
      return (await deps.units.destroyUnit(name)) ? { status: 204 } : apiError(404, `unit ${name} does not exist`);
    default:
      return putUnit(req, deps, name);
  }
}

/**
 * PUT, as fleet's server answers it. A new unit needs options: it is created (201) with the body's
 * desired state, or `inactive` when the body has none (fleet's client creates with `name` and
 * `options` only, then sets the state in a second PUT). For an existing unit, options of a
 * different hash replace the file, hash and desired state (201; `inactive` when the body has none,
 * which is how fleet's client sends `--replace`; 409 if the unit changed meanwhile); otherwise the
 * body must carry a desired state (409 without one), which is set (204). Options are validated as for a create; fleet's client omits an option's empty
 * `section` or `value`, which therefore read as `""`.
 */
async function putUnit(req: ApiRequest, deps: ApiDeps, name: UnitName): Promise<ApiResponse> {
  const fields = unitFields(req.body, name);
  if (typeof fields === 'string') return apiError(400, fields);
  const { wanted, options } = fields;
  if (options === undefined || options === null || (Array.isArray(options) && options.length === 0)) {
    if (wanted === undefined) {
      const exists = (await deps.units.getUnit(name)) !== undefined;
      return apiError(409, exists ? `must provide desiredState to update existing unit ${name}` : `unit ${name} does not exist and options field is empty`);
    }
    if (await deps.units.setDesiredState(name, wanted)) return { status: 204 };
    return apiError(409, `unit ${name} does not exist and options field is empty`);
  }
  const file = storableFile(name, options);
  if (typeof file === 'string') return apiError(400, file);
  return storeUnit(deps, name, file.file, wanted);
}

/**
 * A unit body's fields, checked as fleet's server checks them (no unknown fields, the URL's name,
 * a valid desired state, none but `inactive` for a template), or what is wrong with them (a 400).
 */
function unitFields(body: unknown, name: UnitName): { readonly wanted: TargetState | undefined; readonly options: unknown } | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'request body must be a JSON object';
  const { name: bodyName, desiredState, options, ...unknown } = body as Record<string, unknown>;
  const extra = Object.keys(unknown).filter((k) => k !== 'currentState' && k !== 'machineID');
  if (extra.length > 0) return `unknown field(s) in unit: ${extra.join(', ')}`;
  if (bodyName !== undefined && bodyName !== '' && bodyName !== name) return `name in body (${JSON.stringify(bodyName)}) does not match the URL (${name})`;
  const wanted = desiredState === undefined || desiredState === '' ? undefined : desiredState;
  if (wanted !== undefined && !isTargetState(wanted)) return `desiredState must be one of ${targetStates.join(', ')}`;
  if (isTemplate(name) && wanted !== undefined && wanted !== 'inactive') return `unit ${name} is a template: its desired state can only be inactive`;
  return { wanted, options };
}

/** A body's options as the unit file to store, checked as submitted and stored (and hashed) as fleet hands it back; or what is wrong with them (a 400). */
function storableFile(name: UnitName, options: unknown): { readonly file: UnitFile } | string {
  const file = wireOptionsToUnitFile(options);
  if (typeof file === 'string') return `invalid unit options: ${file}`;
  const problems = requirementsProblems(file);
  if (problems.length > 0) return `invalid [X-Fleet] section of ${name}: ${problems.join('; ')}`;
  return { file: storedUnitFile(file) };
}

/** The most units one POST may create. */
export const maxUnitsPerCreate = 1_000;

/**
 * POST `/units` (ours; fleet's API has no such method and answers 405): `{"units": [unit, ...]}`
 * creates each unit that does not exist, with its options and desired state (default `inactive`),
 * checked as a PUT would check them; 200 with `{"units": [{"name", "created"}]}` in the same
 * order, `created: false` for a unit that existed (left as it is). Any invalid unit, a name given
 * twice, or more than {@link maxUnitsPerCreate} units: 400 naming the problem, nothing stored.
 * Lets a client start hundreds of units in one request instead of one each.
 */
async function createMany(req: ApiRequest, deps: ApiDeps): Promise<ApiResponse> {
  const body = req.body as { units?: unknown } | undefined;
  const entries = typeof body === 'object' && body !== null && !Array.isArray(body) ? body.units : undefined;
  if (!Array.isArray(entries)) return apiError(400, 'request body must be a JSON object with a "units" array');
  if (entries.length > maxUnitsPerCreate) return apiError(400, `at most ${maxUnitsPerCreate} units per request, got ${entries.length}`);
  const units: Unit[] = [];
  const seen = new Set<string>();
  for (const [i, entry] of entries.entries()) {
    const rawName = (entry as { name?: unknown } | null)?.name;
    if (typeof rawName !== 'string') return apiError(400, `units[${i}]: a unit needs a name`);
    const problem = unitNameProblem(rawName);
    if (problem !== undefined) return apiError(400, `units[${i}]: invalid unit name ${JSON.stringify(rawName)}: ${problem}`);
    const name = rawName as UnitName;
    if (seen.has(name)) return apiError(400, `units[${i}]: unit ${name} is given twice`);
    seen.add(name);
    const fields = unitFields(entry, name);
    if (typeof fields === 'string') return apiError(400, `units[${i}] (${name}): ${fields}`);
    if (!Array.isArray(fields.options) || fields.options.length === 0) return apiError(400, `units[${i}] (${name}): options are required to create a unit`);
    const file = storableFile(name, fields.options);
    if (typeof file === 'string') return apiError(400, `units[${i}] (${name}): ${file}`);
    units.push({ name, file: file.file, hash: hashUnitFile(file.file), desiredState: fields.wanted ?? 'inactive' });
  }
  const outcomes = await deps.units.createUnits(units);
  return { status: 200, body: { units: units.map((u, i) => ({ name: u.name, created: outcomes[i]?.kind === 'created' })) } };
}

/**
 * The options of a PUT body as a unit file, or what is wrong with them. A missing `section`,
 * `name` or `value` is `""`: fleet's client leaves every empty one out (`=/bin/true` has no name,
 * and fleet accepts it).
 */
function wireOptionsToUnitFile(options: unknown): UnitFile | string {
  if (!Array.isArray(options)) return 'options must be an array';
  const normalised = options.map((o: unknown) => {
    if (typeof o !== 'object' || o === null || Array.isArray(o)) return o;
    const { section, name, value, ...rest } = o as Record<string, unknown>;
    return { ...rest, section: section ?? '', name: name ?? '', value: value ?? '' };
  });
  const problem = unitFileProblem(normalised);
  if (problem !== undefined) return problem;
  return (normalised as UnitOption[]).map(({ section, name, value }) => ({ section, name, value }));
}

async function storeUnit(deps: ApiDeps, name: UnitName, file: UnitFile, desiredState: TargetState | undefined): Promise<ApiResponse> {
  const unit = { name, file, hash: hashUnitFile(file), desiredState: desiredState ?? 'inactive' };
  const outcome = await deps.units.createUnit(unit);
  if (outcome.kind === 'created') return { status: 201 };
  if (outcome.existing.hash === unit.hash) {
    if (desiredState === undefined) return apiError(409, `must provide desiredState to update existing unit ${name}`);
    if (await deps.units.setDesiredState(name, desiredState)) return { status: 204 };
    return apiError(409, `unit ${name} was destroyed while it was being updated; retry`);
  }
  const replaced = await deps.units.replaceUnit(unit, outcome.revision);
  if (replaced.kind === 'replaced') return { status: 201 };
  return apiError(409, `unit ${name} was changed by another request while it was being replaced; retry`);
}

/** What answering about a unit needs besides its record: its first schedule entry (by machine ID), that machine's report, the engine's reason. */
interface UnitFacts {
  readonly entry: ScheduledUnit | undefined;
  readonly reported: UnitState | undefined;
  readonly reason: string | undefined;
}

function factsOf(view: ClusterView, name: UnitName): UnitFacts {
  const entry = view.placements(name)[0];
  return { entry, reported: entry === undefined ? undefined : view.state(entry.machineId, name), reason: view.reason(name) };
}

/**
 * fleet's current state of a unit: `inactive` until the agent of the machine it is scheduled to
 * reports it, then what that agent has brought it to (`loaded` or `launched`). Not the engine's
 * target: a unit the engine placed but no agent has acted on yet is still `inactive`, and a unit
 * being stopped stays `launched` until its agent has stopped it, as in fleet.
 */
function currentState({ entry, reported }: UnitFacts): TargetState {
  if (entry === undefined || reported === undefined) return 'inactive';
  return reported.agentState ?? 'loaded';
}

/** An option as fleet's server writes it: an empty `section` or `value` is left out. */
function toWireOption({ section, name, value }: UnitOption): WireUnitOption {
  const option: WireUnitOption = { name };
  if (section !== '') option.section = section;
  if (value !== '') option.value = value;
  return option;
}

function toWireUnit(name: UnitName, file: UnitFile, desiredState: string, facts: UnitFacts): WireUnit {
  const { entry, reason } = facts;
  // A global unit runs on many machines: like fleet, it names none and has no current state.
  const global = parseRequirements(name, file).global;
  const unit: WireUnit = { name, options: file.map(toWireOption), desiredState };
  if (!global) unit.currentState = currentState(facts);
  if (entry !== undefined && !global) unit.machineID = entry.machineId;
  // The agent's failure counts only for the file the unit has now (a new file is tried afresh).
  const failure = !global && facts.reported?.failure !== undefined && facts.reported.hash === hashUnitFile(file) ? facts.reported.failure : undefined;
  if (failure !== undefined) unit.failure = failure;
  if (reason !== undefined || failure !== undefined) unit.reason = reason ?? `systemd on ${facts.reported?.machineId ?? '?'} refused it: ${failure ?? ''}`;
  return unit;
}
