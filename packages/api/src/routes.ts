import { systemClock, type Clock, FleetError, type FleetErrorCode, RegistryUnavailableError } from '@fleet/core';
import { discovery } from './discovery.js';
import { machineUnitItem } from './machine-units-routes.js';
import { machinesCollection } from './machines-routes.js';
import { apiError, etcdUnavailableMessage, type ApiDeps, type ApiRequest, type ApiResponse } from './request.js';
import { unitStates } from './state-routes.js';
import { unitItem, unitsCollection } from './units-routes.js';

/**
 * fleet's API v1 as a pure-ish function of a parsed request: it reads and writes only through the
 * registry roles, so it runs the same over etcd and over the in-memory registry in tests.
 * A thrown {@link FleetError} is answered by its kind (see {@link statusOf}): registry failures,
 * and a registry slower than `deps.registryTimeoutMs`, are a 503. Anything else is thrown on, and
 * the server answers 500.
 */
export async function handleApiRequest(req: ApiRequest, deps: ApiDeps): Promise<ApiResponse> {
  const unavailable = deps.unavailable?.();
  if (unavailable !== undefined) return apiError(503, unavailable);
  try {
    const work = route(req, deps);
    return deps.registryTimeoutMs === undefined ? await work : await withDeadline(work, deps.registryTimeoutMs, deps.clock ?? systemClock);
  } catch (err) {
    if (err instanceof RegistryUnavailableError) return apiError(503, etcdUnavailableMessage);
    const status = err instanceof FleetError ? statusOf(err.code) : undefined;
    if (status === undefined) throw err;
    return apiError(status, (err as FleetError).message);
  }
}

/**
 * The HTTP status of an error by its kind: the client's input 400, an unknown unit 404, a
 * conflict 409, systemd failing 502 (a transient one is the same: the request may be retried), a
 * timeout 504; `undefined` for what is this server's own fault (a corrupt record, a broken
 * invariant), which is a 500.
 */
export function statusOf(code: FleetErrorCode): number | undefined {
  switch (code) {
    case 'INVALID_UNIT_NAME':
    case 'INVALID_UNIT_FILE':
    case 'INVALID_TARGET_STATE':
    case 'INVALID_CONFIG':
    case 'INVALID_REQUEST':
      return 400;
    case 'UNIT_NOT_FOUND':
      return 404;
    case 'UNIT_EXISTS':
    case 'NOT_LEADER':
      return 409;
    case 'REGISTRY_UNAVAILABLE':
      return 503;
    case 'SYSTEMD_FAILED':
    case 'API_ERROR':
      return 502;
    case 'TIMEOUT':
      return 504;
    case 'CORRUPT_RECORD':
      return undefined;
  }
}

async function route(req: ApiRequest, deps: ApiDeps): Promise<ApiResponse> {
  const segments = req.path.split('/').filter((s) => s !== '');
  const [collection, item, ...rest] = segments;
  if (collection === 'machines' && item !== undefined && rest.length === 3 && rest[0] === 'units') {
    return machineUnitItem(req, deps, decodeSegment(item), decodeSegment(rest[1] ?? ''), rest[2] ?? '');
  }
  if (rest.length > 0) return apiError(404, 'not found');
  switch (collection) {
    case 'units':
      return item === undefined ? unitsCollection(req, deps) : unitItem(req, deps, decodeSegment(item));
    case 'state':
      return unitStates(req, deps, item === undefined ? undefined : decodeSegment(item));
    case 'machines':
      return item === undefined ? machinesCollection(req, deps) : apiError(404, 'not found');
    case 'discovery':
      return item === undefined ? discovery(req) : apiError(404, 'not found');
    default:
      return apiError(404, 'not found');
  }
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new FleetError('INVALID_REQUEST', `malformed percent-encoding in ${JSON.stringify(segment)}`);
  }
}

/**
 * `work`, or a RegistryUnavailableError once `ms` have passed without an answer: the etcd client
 * waits indefinitely on a stalled etcd (a frozen process, a partition that drops packets), and a
 * client deserves an answer. A write that was sent may still land after the 503, as with any timeout.
 */
async function withDeadline<T>(work: Promise<T>, ms: number, clock: Clock): Promise<T> {
  const done = new AbortController();
  const deadline = clock.sleep(ms, done.signal).then(() => {
    throw new RegistryUnavailableError('API request', { cause: new Error(`etcd did not answer within ${ms} ms`) });
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    done.abort();
    deadline.catch(() => undefined); // the aborted sleep's rejection is expected
  }
}
