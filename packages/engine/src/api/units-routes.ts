import {
  hashUnitFile, isTargetState, isTemplate, parseUnitName, targetStates, unitFileProblem,
  type Requirements, type ScheduledUnit, type TargetState, type UnitFile, type UnitName,
} from '../model/index.js';
import { parseRequirements, replacesCycleProblems, requirementsProblems } from '../model/requirements.js';
import type { ClusterSnapshot } from '../registry/index.js';
import { apiError, methodNotAllowed, paginate, withToken, type ApiDeps, type ApiRequest, type ApiResponse } from './request.js';
import type { WireUnit } from './wire.js';

/** `/units`: GET lists units a page at a time. */
export async function unitsCollection(req: ApiRequest, deps: ApiDeps): Promise<ApiResponse> {
  if (req.method !== 'GET') return methodNotAllowed(req, ['GET']);
  const snapshot = await deps.cluster.snapshot();
  const names = [...snapshot.units.keys()].sort();
  const page = paginate(names, req.query, deps.tokenLimit);
  if (page === undefined) return apiError(400, 'invalid nextPageToken');
  const records = page.items.flatMap((name) => snapshot.units.get(name) ?? []);
  const files = await deps.cluster.unitFiles(records.map((r) => r.hash));
  const placed = firstEntries(snapshot);
  const units: WireUnit[] = records.flatMap((r) => {
    const file = files.get(r.hash);
    return file === undefined ? [] : [toWireUnit(r.name, file, r.desiredState, snapshot, placed)];
  });
  return { status: 200, body: withToken({ units }, page.next) };
}

/** `/units/<name>`: GET, PUT (create, replace or set the desired state), DELETE. */
export async function unitItem(req: ApiRequest, deps: ApiDeps, rawName: string): Promise<ApiResponse> {
  const allowed = ['GET', 'PUT', 'DELETE'];
  if (!allowed.includes(req.method)) return methodNotAllowed(req, allowed);
  const name = parseUnitName(rawName); // FleetError → 400 with the rule broken
  switch (req.method) {
    case 'GET': {
      const [unit, snapshot] = await Promise.all([deps.units.getUnit(name), deps.cluster.snapshot()]);
      if (unit === undefined) return apiError(404, `unit ${name} does not exist`);
      return { status: 200, body: toWireUnit(name, unit.file, unit.desiredState, snapshot, firstEntries(snapshot)) };
    }
    case 'DELETE':
      return (await deps.units.destroyUnit(name)) ? { status: 204 } : apiError(404, `unit ${name} does not exist`);
    default:
      return putUnit(req, deps, name);
  }
}

/**
 * PUT: without options, sets the desired state of an existing unit (204; 409 if there is none).
 * With options: creates the unit (201); for an existing unit, sets the desired state when the
 * options hash the same (204), or replaces the file, hash and desired state when they differ (204,
 * fleet's `--replace`; 409 if the unit changed meanwhile). Options are validated as for a create.
 */
async function putUnit(req: ApiRequest, deps: ApiDeps, name: UnitName): Promise<ApiResponse> {
  const body = req.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return apiError(400, 'request body must be a JSON object');
  const { name: bodyName, desiredState, options, ...unknown } = body as Record<string, unknown>;
  const extra = Object.keys(unknown).filter((k) => k !== 'currentState' && k !== 'machineID');
  if (extra.length > 0) return apiError(400, `unknown field(s) in unit: ${extra.join(', ')}`);
  if (bodyName !== undefined && bodyName !== name) return apiError(400, `name in body (${JSON.stringify(bodyName)}) does not match the URL (${name})`);
  if (!isTargetState(desiredState)) return apiError(400, `desiredState must be one of ${targetStates.join(', ')}`);
  if (isTemplate(name) && desiredState !== 'inactive') return apiError(400, `unit ${name} is a template: its desired state can only be inactive`);
  if (options === undefined || (Array.isArray(options) && options.length === 0)) {
    if (await deps.units.setDesiredState(name, desiredState)) return { status: 204 };
    return apiError(409, `unit ${name} does not exist and options field is empty`);
  }
  const problem = unitFileProblem(options);
  if (problem !== undefined) return apiError(400, `invalid unit options: ${problem}`);
  const file = options as UnitFile;
  const problems = requirementsProblems(name, file);
  if (problems.length > 0) return apiError(400, `invalid [X-Fleet] section of ${name}: ${problems.join('; ')}`);
  const cycle = await replacesCycle(deps, name, file);
  if (cycle !== undefined) return apiError(400, `invalid [X-Fleet] section of ${name}: ${cycle}`);
  return storeUnit(deps, name, file, desiredState);
}

async function storeUnit(deps: ApiDeps, name: UnitName, file: UnitFile, desiredState: TargetState): Promise<ApiResponse> {
  const unit = { name, file, hash: hashUnitFile(file), desiredState };
  const outcome = await deps.units.createUnit(unit);
  if (outcome.kind === 'created') return { status: 201 };
  if (outcome.existing.hash === unit.hash) {
    if (await deps.units.setDesiredState(name, desiredState)) return { status: 204 };
    return apiError(409, `unit ${name} was destroyed while it was being updated; retry`);
  }
  const replaced = await deps.units.replaceUnit(unit, outcome.revision);
  if (replaced.kind === 'replaced') return { status: 204 };
  return apiError(409, `unit ${name} was changed by another request while it was being replaced; retry`);
}

/** A Replaces= cycle the new unit would close with the stored units, as a message. */
async function replacesCycle(deps: ApiDeps, name: UnitName, file: UnitFile): Promise<string | undefined> {
  const own = parseRequirements(name, file);
  // A cycle through the new unit leaves it by one of its own Replaces=: none, no cycle.
  if (own.replaces.length === 0) return undefined;
  const snapshot = await deps.cluster.snapshot();
  const files = await deps.cluster.unitFiles([...snapshot.units.values()].map((u) => u.hash));
  const all = new Map<UnitName, Requirements>();
  for (const unit of snapshot.units.values()) {
    const f = files.get(unit.hash);
    if (f !== undefined && unit.name !== name) all.set(unit.name, parseRequirements(unit.name, f));
  }
  all.set(name, own);
  return replacesCycleProblems(all).get(name);
}

/** The first schedule entry of each unit (by machine ID), indexed once per answer. */
function firstEntries(snapshot: ClusterSnapshot): ReadonlyMap<UnitName, ScheduledUnit> {
  const out = new Map<UnitName, ScheduledUnit>();
  for (const e of snapshot.schedule) {
    const seen = out.get(e.name);
    if (seen === undefined || e.machineId < seen.machineId) out.set(e.name, e);
  }
  return out;
}

function toWireUnit(name: UnitName, file: UnitFile, desiredState: string, snapshot: ClusterSnapshot, placed: ReadonlyMap<UnitName, ScheduledUnit>): WireUnit {
  const entry = placed.get(name);
  const unit: WireUnit = {
    name,
    options: file.map(({ section, name: n, value }) => ({ section, name: n, value })),
    desiredState,
    currentState: entry?.targetState ?? 'inactive',
  };
  // A global unit runs on many machines: like fleet, it names none.
  if (entry !== undefined && !parseRequirements(name, file).global) unit.machineID = entry.machineId;
  const reason = snapshot.reasons.get(name);
  if (reason !== undefined) unit.reason = reason;
  return unit;
}
