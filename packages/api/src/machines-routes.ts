import { isMachineId, metadataKeyPattern, type MachineId, type MetadataChange } from '@fleet/core/model';
import { apiError, methodNotAllowed, paginate, withToken, type ApiDeps, type ApiRequest, type ApiResponse } from './request.js';
import type { WireMachine } from '@fleet/core/wire';

/**
 * `/machines`: GET lists the present machines with their effective metadata; PATCH applies a JSON
 * Patch to machines' metadata (204), all operations or none (400 naming the first bad operation).
 */
export async function machinesCollection(req: ApiRequest, deps: ApiDeps): Promise<ApiResponse> {
  switch (req.method) {
    case 'GET':
      return listMachines(req, deps);
    case 'PATCH': {
      const parsed = parseMetadataPatch(req.body);
      if (!parsed.ok) return apiError(400, parsed.message);
      if (parsed.changes.length > 0) await deps.machines.patchMachineMetadata(parsed.changes);
      return { status: 204 };
    }
    default:
      return methodNotAllowed(req, ['GET', 'PATCH']);
  }
}

async function listMachines(req: ApiRequest, deps: ApiDeps): Promise<ApiResponse> {
  // By ID already; machines are few next to units.
  const machines: WireMachine[] = (await deps.cluster.view()).machines()
    .map((m) => ({ id: m.id, primaryIP: m.publicIp, metadata: { ...m.metadata } }));
  const page = paginate(machines, req.query, deps.tokenLimit);
  if (page === undefined) return apiError(400, 'invalid nextPageToken');
  return { status: 200, body: withToken({ machines: page.items }, page.next) };
}

/** A parsed `PATCH /machines` body, or why it is refused. */
export type MetadataPatch = { readonly ok: true; readonly changes: MetadataChange[] } | { readonly ok: false; readonly message: string };

const pathPattern = /^\/([^/]*)\/metadata\/([^/]*)$/;
const opFields = new Set(['op', 'path', 'value']);

/**
 * Parses fleet's metadata patch: an array of `{op, path, value}` with `op` one of `add`, `replace`
 * (both set the key; `value` must be `{"value": "<non-empty string>"}` as fleet's client sends it,
 * or that string itself) or `remove` (drops the key, even a
 * configured one; a `value` is ignored), and `path` `/<machine ID>/metadata/<key>`. As in fleet,
 * `add` and `replace` do not check whether the key exists and the machine need not be present;
 * unlike fleet, the machine ID must be well-formed and unknown fields are refused. Every operation
 * is checked before any is applied.
 */
export function parseMetadataPatch(body: unknown): MetadataPatch {
  if (!Array.isArray(body)) return { ok: false, message: 'request body must be a JSON array of {"op", "path", "value"} operations' };
  const changes: MetadataChange[] = [];
  for (const [index, item] of (body as unknown[]).entries()) {
    const parsed = parseOperation(item);
    if (typeof parsed === 'string') return { ok: false, message: `invalid operation ${index} ${describe(item)}: ${parsed}` };
    changes.push(parsed);
  }
  return { ok: true, changes };
}

function parseOperation(item: unknown): MetadataChange | string {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return 'must be a JSON object';
  const v = item as Record<string, unknown>;
  const extra = Object.keys(v).filter((k) => !opFields.has(k));
  if (extra.length > 0) return `unknown field(s): ${extra.join(', ')}`;
  const op = v['op'];
  if (op !== 'add' && op !== 'remove' && op !== 'replace') return 'op must be one of add, remove, replace';
  const path = typeof v['path'] === 'string' ? pathPattern.exec(v['path']) : null;
  if (path === null) return 'path must be /<machine ID>/metadata/<key>';
  const [, id = '', key = ''] = path;
  if (!isMachineId(id)) return `invalid machine ID ${JSON.stringify(id)}: must be 32 lowercase hex digits`;
  if (!metadataKeyPattern.test(key)) return `invalid metadata key ${JSON.stringify(key)}: only letters, digits, "_", "." and "-"`;
  // fleet's body wraps the value in an object, `{"value": {"value": "..."}}`; a bare string is
  // accepted too (JSON Patch's own form).
  const raw = v['value'];
  const value = typeof raw === 'object' && raw !== null && !Array.isArray(raw) && Object.keys(raw).every((k) => k === 'value') ? (raw as Record<string, unknown>)['value'] : raw;
  if (op === 'remove') {
    if (value !== undefined && typeof value !== 'string') return 'value must be a string when given';
    return { machineId: id as MachineId, key, value: null };
  }
  if (typeof value !== 'string' || value === '') return `${op} requires a non-empty string value`;
  return { machineId: id as MachineId, key, value };
}

function describe(item: unknown): string {
  const text = JSON.stringify(item) ?? String(item);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
