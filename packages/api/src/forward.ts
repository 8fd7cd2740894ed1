import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
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
  return (machine: MachineState, pathAndQuery: string, signal: AbortSignal): Promise<ForwardedResponse> =>
    new Promise((resolve, reject) => {
      if (machine.apiUrl === undefined) {
        reject(new Error('the machine has no API URL'));
        return;
      }
      const url = new URL(pathAndQuery, machine.apiUrl);
      const https = url.protocol === 'https:';
      const tls = options.tls;
      const send = https ? httpsRequest : httpRequest;
      const req = send(
        url,
        {
          method: 'GET',
          signal,
          headers: { [forwardedHeader]: '1', Accept: '*/*' },
          ...(https && tls !== undefined ? { cert: tls.cert, key: tls.key, ...(tls.ca === undefined ? {} : { ca: tls.ca }) } : {}),
        },
        (res: IncomingMessage) => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 502, contentType: String(res.headers['content-type'] ?? 'application/octet-stream'), body: res });
        },
      );
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${options.connectTimeoutMs ?? 5000} ms`)), options.connectTimeoutMs ?? 5000);
      req.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.end();
    });
}
