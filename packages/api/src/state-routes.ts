import type { UnitState } from '@fleet/core/model';
import { apiError, methodNotAllowed, pageOf, withToken, type ApiDeps, type ApiRequest, type ApiResponse } from './request.js';
import type { WireUnitState } from '@fleet/core/wire';

/**
 * `/state[?machineID=&unitName=]` lists systemd's view of units a page at a time (sorted by unit,
 * then machine; a page costs O(page)); `/state/<name>` answers the first state of that unit, or 404.
 */
export async function unitStates(req: ApiRequest, deps: ApiDeps, single: string | undefined): Promise<ApiResponse> {
  if (req.method !== 'GET') return methodNotAllowed(req, ['GET']);
  const view = await deps.cluster.view();
  const unitName = single ?? req.query.get('unitName') ?? undefined;
  const machineId = req.query.get('machineID') ?? undefined;
  const filter = { ...(unitName === undefined ? {} : { unitName }), ...(machineId === undefined ? {} : { machineId }) };
  if (single !== undefined) {
    const first = view.states(filter, 0, 1).items[0];
    return first === undefined ? apiError(404, `no state for unit ${single}`) : { status: 200, body: toWire(first) };
  }
  const total = view.states(filter, 0, 0).total;
  const page = pageOf(req.query, deps.tokenLimit, total);
  if (page === undefined) return apiError(400, 'invalid nextPageToken');
  const states = view.states(filter, page.offset, deps.tokenLimit).items.map(toWire);
  return { status: 200, body: withToken({ states }, page.next) };
}

function toWire(s: UnitState): WireUnitState {
  return {
    name: s.name, hash: s.hash, machineID: s.machineId,
    systemdLoadState: s.loadState, systemdActiveState: s.activeState, systemdSubState: s.subState,
    ...(s.failure === undefined ? {} : { failure: s.failure }),
  };
}
