import { systemClock, type Clock, FleetError, RegistryUnavailableError } from '@fleet/core';
import { discovery } from './discovery.js';
import { machineUnitItem } from './machine-units-routes.js';
import { machinesCollection } from './machines-routes.js';
import { apiError, etcdUnavailableMessage, type ApiDeps, type ApiRequest, type ApiResponse } from './request.js';
import { unitStates } from './state-routes.js';
import { unitItem, unitsCollection } from './units-routes.js';

/**
 * fleet's API v1 as a pure-ish function of a parsed request: it reads and writes only through the
 * registry roles, so it runs the same over etcd and over the in-memory registry in tests.
 * Registry failures, and a registry slower than `deps.registryTimeoutMs`, are a 503; other
 * {@link FleetError}s (invalid names, options, requests) are a 400 with their message.
 */
export async function handleApiRequest(req: ApiRequest, deps: ApiDeps): Promise<ApiResponse> {
  const unavailable = deps.unavailable?.();
  if (unavailable !== undefined) return apiError(503, unavailable);
  try {
    const work = route(req, deps);
    return deps.registryTimeoutMs === undefined ? await work : await withDeadline(work, deps.registryTimeoutMs, deps.clock ?? systemClock);
  } catch (err) {
    if (err instanceof RegistryUnavailableError) return apiError(503, etcdUnavailableMessage);
    if (err instanceof FleetError && err.code !== 'CORRUPT_RECORD') return apiError(400, err.message);
    throw err;
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
