import { parseUnitName, isMachineId } from '@fleet/core/model';
import type { MachineId, UnitName } from '@fleet/core/model';
import { apiError, methodNotAllowed, type ApiDeps, type ApiRequest, type ApiResponse } from './request.js';

/** Most log lines one request may ask for. */
export const maxJournalLines = 100_000;

/**
 * Ours: `GET /machines/<id>/units/<unit>/status` and `.../journal?lines=N&follow=true`: systemd's
 * view of a unit on one machine, read by that machine's fleetd. Any fleetd answers: a request for
 * another machine is forwarded to its fleetd (once; a forwarded request is never forwarded again).
 */
export async function machineUnitItem(req: ApiRequest, deps: ApiDeps, machine: string, unit: string, what: string): Promise<ApiResponse> {
  if (what !== 'status' && what !== 'journal') return apiError(404, 'not found');
  if (req.method !== 'GET') return methodNotAllowed(req, ['GET']);
  if (!isMachineId(machine)) return apiError(400, `invalid machine ID ${JSON.stringify(machine)}: must be 32 lowercase hex digits`);
  const name = parseUnitName(unit);
  const inspection = deps.inspection;
  if (inspection === undefined) return apiError(501, 'this fleet server cannot read unit status or logs');
  let journal: { lines: number; follow: boolean } | undefined;
  if (what === 'journal') {
    const parsed = journalOptions(req.query);
    if (typeof parsed === 'string') return apiError(400, parsed);
    journal = parsed;
  }
  const signal = req.signal ?? new AbortController().signal;
  if (machine === inspection.machineId) {
    if (journal === undefined) return { status: 200, body: { machineID: machine, ...(await inspection.localStatus(name)) } };
    return { status: 200, contentType: 'text/plain; charset=utf-8', stream: lines(inspection.localJournal(name, { ...journal, signal })) };
  }
  return forward(req, deps, machine as MachineId, name, what, signal);
}

async function forward(req: ApiRequest, deps: ApiDeps, machine: MachineId, unit: UnitName, what: string, signal: AbortSignal): Promise<ApiResponse> {
  const inspection = deps.inspection;
  if (inspection === undefined) return apiError(501, 'this fleet server cannot read unit status or logs');
  if (req.forwarded === true) return apiError(502, `request for machine ${machine} was forwarded to a fleet server that is not that machine`);
  const target = (await deps.cluster.view()).machine(machine);
  if (target === undefined) return apiError(404, `machine ${machine} is not in the cluster`);
  if (target.apiUrl === undefined) return apiError(502, `machine ${machine} does not serve its API over TCP (set api_listen on it)`);
  const query = req.query.toString();
  const path = `/fleet/v1/machines/${machine}/units/${encodeURIComponent(unit)}/${what}${query === '' ? '' : `?${query}`}`;
  let answer;
  try {
    answer = await inspection.forward(target, path, signal);
  } catch (err) {
    return apiError(502, `machine ${machine} could not be reached at ${target.apiUrl}: ${(err as Error).message}`);
  }
  if (answer.contentType.startsWith('application/json')) {
    const text = Buffer.concat(await collect(answer.body)).toString('utf8');
    try {
      return { status: answer.status, body: text === '' ? undefined : JSON.parse(text) };
    } catch {
      return apiError(502, `machine ${machine} answered with invalid JSON`);
    }
  }
  return { status: answer.status, contentType: answer.contentType, stream: answer.body };
}

function journalOptions(query: URLSearchParams): { lines: number; follow: boolean } | string {
  const linesText = query.get('lines') ?? '10';
  if (!/^\d+$/.test(linesText) || Number(linesText) > maxJournalLines) return `lines must be an integer from 0 to ${maxJournalLines}`;
  const followText = query.get('follow') ?? 'false';
  if (followText !== 'true' && followText !== 'false') return 'follow must be true or false';
  return { lines: Number(linesText), follow: followText === 'true' };
}

async function* lines(source: AsyncIterable<string>): AsyncIterable<string> {
  for await (const line of source) yield `${line}\n`;
}

async function collect(body: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return chunks;
}
