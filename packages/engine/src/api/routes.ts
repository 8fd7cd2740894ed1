import { FleetError, RegistryUnavailableError } from '../errors.js';
import {
  hashUnitFile, isTargetState, isTemplate, parseUnitName, targetStates, unitFileProblem,
  type Requirements, type UnitFile, type UnitName,
} from '../model/index.js';
import { parseRequirements, replacesCycleProblems, requirementsProblems } from '../model/requirements.js';
import type { ClusterReader, ClusterSnapshot, UnitStore } from '../registry/index.js';
import type { WireMachine, WireUnit, WireUnitState } from './wire.js';

/** An API answer as a value: status and JSON body (none for 204). */
export interface ApiResponse {
  readonly status: number;
  readonly body?: unknown;
}

export interface ApiRequest {
  readonly method: string;
  /** Path with the API prefix removed, e.g. `/units/hello.service`. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Parsed JSON body, or `undefined` when there was none. */
  readonly body: unknown;
}

export interface ApiDeps {
  readonly units: UnitStore;
  readonly cluster: ClusterReader;
  /** Page size (fleet's `token_limit`). */
  readonly tokenLimit: number;
}

/** Builds an error answer in fleet's shape. */
export function apiError(status: number, message: string): ApiResponse {
  return { status, body: { error: { code: status, message } } };
}

/**
 * fleet's API v1 as a pure-ish function of a parsed request: it reads and writes only through the
 * registry roles, so it runs the same over etcd and over the in-memory registry in tests.
 */
export async function handleApiRequest(req: ApiRequest, deps: ApiDeps): Promise<ApiResponse> {
  try {
    return await route(req, deps);
  } catch (err) {
    if (err instanceof RegistryUnavailableError) return apiError(503, 'fleet server unable to communicate with etcd');
    if (err instanceof FleetError && err.code !== 'CORRUPT_RECORD') return apiError(400, err.message);
    throw err;
  }
}

async function route(req: ApiRequest, deps: ApiDeps): Promise<ApiResponse> {
  const segments = req.path.split('/').filter((s) => s !== '');
  const [collection, item, ...rest] = segments;
  if (rest.length > 0) return apiError(404, 'not found');
  switch (collection) {
    case 'units':
      if (item === undefined) return req.method === 'GET' ? listUnits(req, deps) : methodNotAllowed(req);
      return unitItem(req, deps, decodeURIComponent(item));
    case 'state':
      if (req.method !== 'GET') return methodNotAllowed(req);
      return listStates(req, deps, item === undefined ? undefined : decodeURIComponent(item));
    case 'machines':
      if (item !== undefined) return apiError(404, 'not found');
      return req.method === 'GET' ? listMachines(req, deps) : methodNotAllowed(req);
    default:
      return apiError(404, 'not found');
  }
}

function methodNotAllowed(req: ApiRequest): ApiResponse {
  return apiError(405, `method ${req.method} not allowed on ${req.path}`);
}

async function unitItem(req: ApiRequest, deps: ApiDeps, rawName: string): Promise<ApiResponse> {
  const name = parseUnitName(rawName); // FleetError → 400 with the rule broken
  switch (req.method) {
    case 'GET': {
      const [unit, snapshot] = await Promise.all([deps.units.getUnit(name), deps.cluster.snapshot()]);
      if (unit === undefined) return apiError(404, `unit ${name} does not exist`);
      return { status: 200, body: toWireUnit(name, unit.file, unit.desiredState, snapshot) };
    }
    case 'DELETE':
      return (await deps.units.destroyUnit(name)) ? { status: 204 } : apiError(404, `unit ${name} does not exist`);
    case 'PUT':
      return putUnit(req, deps, name);
    default:
      return methodNotAllowed(req);
  }
}

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
  const hash = hashUnitFile(file);
  const outcome = await deps.units.createUnit({ name, file, hash, desiredState });
  if (outcome.kind === 'created') return { status: 201 };
  if (outcome.existing.hash !== hash) {
    return apiError(409, `unit ${name} already exists with different options (hash ${outcome.existing.hash.slice(0, 7)}); destroy it first or use --replace`);
  }
  await deps.units.setDesiredState(name, desiredState);
  return { status: 204 };
}

/** A Replaces= cycle the new unit would close with the stored units, as a message. */
async function replacesCycle(deps: ApiDeps, name: UnitName, file: UnitFile): Promise<string | undefined> {
  const snapshot = await deps.cluster.snapshot();
  const files = await deps.cluster.unitFiles([...snapshot.units.values()].map((u) => u.hash));
  const all = new Map<UnitName, Requirements>();
  for (const unit of snapshot.units.values()) {
    const f = files.get(unit.hash);
    if (f !== undefined && unit.name !== name) all.set(unit.name, parseRequirements(unit.name, f));
  }
  all.set(name, parseRequirements(name, file));
  return replacesCycleProblems(all).get(name);
}

async function listUnits(req: ApiRequest, deps: ApiDeps): Promise<ApiResponse> {
  const snapshot = await deps.cluster.snapshot();
  const names = [...snapshot.units.keys()].sort();
  const page = paginate(names, req.query, deps.tokenLimit);
  if (page === undefined) return apiError(400, 'invalid nextPageToken');
  const units: WireUnit[] = [];
  for (const name of page.items) {
    const record = snapshot.units.get(name);
    const file = record === undefined ? undefined : await deps.units.getUnitFile(record.hash);
    if (record === undefined || file === undefined) continue;
    units.push(toWireUnit(name, file, record.desiredState, snapshot));
  }
  return { status: 200, body: withToken({ units }, page.next) };
}

async function listStates(req: ApiRequest, deps: ApiDeps, single: string | undefined): Promise<ApiResponse> {
  const snapshot = await deps.cluster.snapshot();
  const unitName = single ?? req.query.get('unitName') ?? undefined;
  const machineID = req.query.get('machineID') ?? undefined;
  const states: WireUnitState[] = snapshot.states
    .filter((s) => (unitName === undefined || s.name === unitName) && (machineID === undefined || s.machineId === machineID))
    .sort((a, b) => a.name.localeCompare(b.name) || a.machineId.localeCompare(b.machineId))
    .map((s) => ({
      name: s.name, hash: s.hash, machineID: s.machineId,
      systemdLoadState: s.loadState, systemdActiveState: s.activeState, systemdSubState: s.subState,
    }));
  if (single !== undefined) {
    const first = states[0];
    return first === undefined ? apiError(404, `no state for unit ${single}`) : { status: 200, body: first };
  }
  const page = paginate(states, req.query, deps.tokenLimit);
  if (page === undefined) return apiError(400, 'invalid nextPageToken');
  return { status: 200, body: withToken({ states: page.items }, page.next) };
}

async function listMachines(req: ApiRequest, deps: ApiDeps): Promise<ApiResponse> {
  const snapshot = await deps.cluster.snapshot();
  const machines: WireMachine[] = [...snapshot.machines.values()]
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((m) => ({ id: m.id, primaryIP: m.publicIp, metadata: { ...m.metadata } }));
  const page = paginate(machines, req.query, deps.tokenLimit);
  if (page === undefined) return apiError(400, 'invalid nextPageToken');
  return { status: 200, body: withToken({ machines: page.items }, page.next) };
}

function toWireUnit(name: UnitName, file: UnitFile, desiredState: string, snapshot: ClusterSnapshot): WireUnit {
  const entries = snapshot.schedule.filter((s) => s.name === name);
  const entry = entries[0];
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

/** Offset-based page tokens: opaque to clients (base64url of the offset). */
function paginate<T>(items: readonly T[], query: URLSearchParams, limit: number): { items: T[]; next: string | undefined } | undefined {
  const token = query.get('nextPageToken');
  let offset = 0;
  if (token !== null && token !== '') {
    const decoded = /^[A-Za-z0-9_-]+$/.test(token) ? Buffer.from(token, 'base64url').toString('utf8') : '';
    if (!/^\d+$/.test(decoded)) return undefined;
    offset = Number(decoded);
  }
  const end = offset + limit;
  return { items: items.slice(offset, end), next: end < items.length ? Buffer.from(String(end)).toString('base64url') : undefined };
}

function withToken<T extends object>(body: T, next: string | undefined): T & { nextPageToken?: string } {
  return next === undefined ? body : { ...body, nextPageToken: next };
}
