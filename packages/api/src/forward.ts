import { openHttp, targetOfUrl } from '@fleet/core/http';
import type { MachineState } from '@fleet/core/model';
import type { ForwardedResponse } from './inspection.js';
import { forwardedHeader } from './server.js';
import type { ApiTls } from './tls.js';

/**
 * Forwards GETs to other fleetds over their TCP API (`MachineState.apiUrl`). With TLS configured,
 * this fleetd presents its own certificate (signed by the cluster's CA) and verifies theirs.
 * Connecting gives up after `connectTimeoutMs`; a streamed answer (a followed log) may then last.
 */
export function httpForwarder(options: { tls?: ApiTls | undefined; connectTimeoutMs?: number } = {}) {
  return async (machine: MachineState, pathAndQuery: string, signal: AbortSignal): Promise<ForwardedResponse> => {
    if (machine.apiUrl === undefined) throw new Error('the machine has no API URL');
    const target = targetOfUrl(new URL(pathAndQuery, machine.apiUrl));
    const tls = options.tls;
    const res = await openHttp(target, {
      headers: { [forwardedHeader]: '1', Accept: '*/*' },
      timeoutMs: options.connectTimeoutMs ?? 5000,
      signal,
      ...(tls === undefined ? {} : { tls: { cert: tls.cert, key: tls.key, ca: tls.ca } }),
    });
    return { status: res.status, contentType: String(res.headers['content-type'] ?? 'application/octet-stream'), body: res.body };
  };
}
