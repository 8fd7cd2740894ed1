/**
 * Benchmark: fleet at scale on one real etcd, with simulated machines (issue 10).
 *
 *   npm run bench:scale [-- --machines 10,100 --units 1000,10000 --workers 4 --ttl 10 --timeout 300 --out bench-scale.jsonl]
 *   (flock /tmp/realstack.lock: it starts etcd and several processes)
 *
 * For every machines × units pair: a fresh one-member etcd; the machines as real fleetd components
 * (presence with its own lease, agent with its own schedule watch, state publisher; see
 * bench-scale/fleetd-worker.ts) over an in-memory systemd, split among `--workers` processes; two
 * more fleetds, each in its own process with its own cluster cache, run the engine (the first
 * leads, the second stands by) and count among the machines; our API server over an EtcdRegistry
 * and an EtcdClusterCache in this process. The units (a mix: plain, SpreadBy=rack template
 * instances, MachineMetadata, Conflicts, a few Global; bench-scale/workload.ts) are submitted
 * through `POST /fleet/v1/units`, 1,000 a request, two requests at a time. Measured:
 *
 * - placed / running: seconds from the first POST until every unit has a schedule entry, and
 *   until every unit (a Global one on every machine) is reported active/running, as the API's
 *   cache sees it;
 * - etcd RPCs (`grpc_server_started_total`) and client gRPC bytes in/out over that time;
 * - the engine leader's planning time per decision (µs per schedule change, over the passes that
 *   wrote, unit-file fetches left out) and a steady-state pass (planning input copied from the view
 *   plus the planner, nothing to change) per unit;
 * - RSS per machine (each machine worker's RSS over its machines) and the engine process's RSS;
 * - `GET /fleet/v1/state`: a page of 100 (median of 20) and all pages one after the other;
 * - a tenth of the machines killed at once (components stopped, lease released, not revoked: as
 *   etcd sees a SIGKILLed fleetd) and the seconds until all their units run elsewhere (includes the
 *   `--ttl` for the leases to expire).
 *
 * Prints a table; every raw sample goes to `--out` (JSON lines). Stops everything it started and
 * removes its temporary folders, whatever happened.
 */
import { writeFileSync, appendFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { runCell, type CellResult } from './bench-scale/run-cell.js';

const { values } = parseArgs({
  options: {
    machines: { type: 'string', default: '10,100' },
    units: { type: 'string', default: '1000,10000' },
    workers: { type: 'string', default: '4' },
    ttl: { type: 'string', default: '10' },
    timeout: { type: 'string', default: '300' },
    out: { type: 'string', default: 'bench-scale.jsonl' },
  },
});
const list = (s: string): number[] => s.split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0);
const machineSizes = list(values.machines);
const unitSizes = list(values.units);
const out = values.out;
writeFileSync(out, '');
const sample = (record: Record<string, unknown>): void => appendFileSync(out, `${JSON.stringify(record)}\n`);
const say = (line: string): void => console.log(line);

const f = (n: number | undefined, digits = 1): string => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits));
const columns: [string, number, (r: CellResult) => string][] = [
  ['machines', 8, (r) => String(r.machines)],
  ['units', 7, (r) => String(r.units)],
  ['submit s', 8, (r) => f(r.submitS)],
  ['placed s', 8, (r) => f(r.placedS)],
  ['running s', 9, (r) => f(r.runningS)],
  ['etcd RPCs', 9, (r) => String(r.rpcs)],
  ['MB in/out', 11, (r) => `${f(r.mbIn)}/${f(r.mbOut)}`],
  ['µs/decision', 11, (r) => f(r.decisionUs)],
  ['steady µs/unit', 14, (r) => f(r.steadyUsPerUnit, 2)],
  ['MB/machine', 10, (r) => f(r.mbPerMachine, 2)],
  ['engine MB', 9, (r) => f(r.engineMb, 0)],
  ['state page ms', 13, (r) => f(r.statePageMs, 2)],
  ['all pages s', 11, (r) => f(r.stateAllS, 2)],
  ['killed', 6, (r) => String(r.killed)],
  ['moved', 6, (r) => String(r.movedUnits)],
  ['moved s', 7, (r) => f(r.movedS)],
];

const results: CellResult[] = [];
console.log(`bench:scale on ${cpus().length} CPUs, load average ${loadavg()[0]?.toFixed(2)}; TTL ${values.ttl} s; raw samples in ${out}`);
for (const machines of machineSizes) {
  for (const units of unitSizes) {
    say(`${machines} machines, ${units} units:`);
    const result = await runCell({
      machines, units, workers: Number(values.workers), ttlSeconds: Number(values.ttl), timeoutSeconds: Number(values.timeout), sample, say,
    });
    sample({ kind: 'result', ...result });
    for (const p of result.problems) say(`  problem: ${p}`);
    results.push(result);
  }
}
console.log('');
console.log(columns.map(([name, width]) => name.padStart(width)).join('  '));
for (const r of results) console.log(columns.map(([, width, cell]) => cell(r).padStart(width)).join('  '));
