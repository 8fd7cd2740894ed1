import { inStateOrder } from './listing-order.js';
import { apiError, methodNotAllowed, paginate, withToken, type ApiDeps, type ApiRequest, type ApiResponse } from './request.js';
import type { WireUnitState } from '@fleet/core/wire';

/**
 * `/state[?machineID=&unitName=]` lists systemd's view of units a page at a time (sorted by unit,
 * then machine); `/state/<name>` answers the first state of that unit, or 404.
 */
export async function unitStates(req: ApiRequest, deps: ApiDeps, single: string | undefined): Promise<ApiResponse> {
  if (req.method !== 'GET') return methodNotAllowed(req, ['GET']);
  const snapshot = await deps.cluster.snapshot();
  const unitName = single ?? req.query.get('unitName') ?? undefined;
  const machineID = req.query.get('machineID') ?? undefined;
  const states: WireUnitState[] = inStateOrder(snapshot.states.filter((s) => (unitName === undefined || s.name === unitName) && (machineID === undefined || s.machineId === machineID)))
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
