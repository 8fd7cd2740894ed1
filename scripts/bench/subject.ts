import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parseUnitFile } from '@fleet/core/model';
import { parseEtcdCounters } from '../etcd-metrics.js';
import type { LocalCluster, LocalMachine } from '../local-cluster/cluster.js';
import { httpRequest } from '../local-cluster/http.js';
import { fleetctlArgs } from '../local-cluster/paths.js';
import { referenceFleetctl } from '../local-cluster/reference-fleet.js';
import { userInstanceEnvironment } from '../local-cluster/systemd-user.js';

const exec = promisify(execFile);

/** One unit's state as both APIs report it in `GET /fleet/v1/state`. */
export interface ApiUnitState {
  readonly name: string;
  readonly machineID: string;
  readonly systemdActiveState: string;
  readonly systemdSubState: string;
}

/**
 * One system under measurement: a local cluster of ours or of the original fleet, with the
 * fleetctl that belongs to it, and the few things a benchmark asks of it.
 */
export class BenchSubject {
  constructor(
    /** `ours` or `fleet`. */
    readonly label: string,
    readonly cluster: LocalCluster,
    /** The original fleetctl for the original fleetd; ours otherwise. */
    private readonly referenceDir: string | undefined,
  ) {}

  /** Runs fleetctl against machine `index`'s API socket; throws (with its output) on a non-zero exit. */
  async fleetctl(index: number, args: readonly string[], timeoutMs = 120_000): Promise<{ stdout: string; stderr: string }> {
    const m = this.machine(index);
    const [file, ...pre] = this.referenceDir === undefined ? [process.execPath, ...fleetctlArgs(m)] : [referenceFleetctl(this.referenceDir), '--endpoint', `unix://${m.apiSocket}`];
    try {
      return await exec(file!, [...pre, ...args], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`${this.label} fleetctl ${args.slice(0, 3).join(' ')}… failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`.trim(), { cause: err });
    }
  }

  machine(index: number): LocalMachine {
    const m = this.cluster.machines[index];
    if (m === undefined) throw new Error(`${this.label} has no machine ${index}`);
    return m;
  }

  /** `PUT /fleet/v1/units/<name>` on machine `index`'s API: the unit created in the given state. */
  async putUnit(index: number, name: string, body: string, desiredState: 'launched' | 'inactive' = 'launched'): Promise<void> {
    const options = unitOptions(body);
    const res = await httpRequest({ socketPath: this.machine(index).apiSocket, path: `/fleet/v1/units/${name}` }, { method: 'PUT', body: { name, desiredState, options } });
    if (res.status !== 201 && res.status !== 204) throw new Error(`${this.label} PUT ${name}: ${res.status} ${res.body}`);
  }

  /** Every unit state the API reports, all pages. */
  async states(index = 0): Promise<ApiUnitState[]> {
    const out: ApiUnitState[] = [];
    let token: string | undefined;
    do {
      const path = `/fleet/v1/state${token === undefined ? '' : `?nextPageToken=${encodeURIComponent(token)}`}`;
      const res = await httpRequest({ socketPath: this.machine(index).apiSocket, path });
      if (res.status !== 200) throw new Error(`${this.label} GET /state: ${res.status} ${res.body}`);
      const body = JSON.parse(res.body) as { states?: ApiUnitState[]; nextPageToken?: string };
      out.push(...(body.states ?? []));
      token = body.nextPageToken;
    } while (token !== undefined && token !== '');
    return out;
  }

  /** Which of `units` the API reports active/running (on any machine). */
  async runningPerApi(units: readonly string[], index = 0): Promise<Set<string>> {
    const want = new Set(units);
    const running = new Set<string>();
    for (const s of await this.states(index)) if (want.has(s.name) && s.systemdActiveState === 'active' && s.systemdSubState === 'running') running.add(s.name);
    return running;
  }

  /** Units matching `glob` that machine `m`'s own systemd runs (active), by name. */
  async activeOn(m: LocalMachine, glob: string): Promise<string[]> {
    const { stdout } = await exec('systemctl', ['--user', 'list-units', '--plain', '--no-legend', '--full', '--state=active,activating,deactivating', '--', glob], {
      env: { ...process.env, ...userInstanceEnvironment(m) }, timeout: 30_000,
    });
    return stdout.split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '').filter((n) => n !== '');
  }

  /** The index of the machine whose fleetd leads the engine, read from etcd; undefined when none does. */
  async leaderIndex(): Promise<number | undefined> {
    const machineId = this.referenceDir === undefined ? await ourLeader(this.cluster.etcd.clientUrl) : await fleetLeader(this.cluster.etcd.clientUrl);
    if (machineId === undefined) return undefined;
    const index = this.cluster.machines.findIndex((m) => m.machineId === machineId);
    return index === -1 ? undefined : index;
  }

  /** etcd's own count of requests served so far, v2 (HTTP) and v3 (gRPC) together, from its `/metrics`. */
  async etcdRequests(): Promise<number> {
    const res = await httpRequest({ url: `${this.cluster.etcd.clientUrl}/metrics` });
    return requestCount(res.body);
  }
}

/** The total of etcd's request counters in a Prometheus text page: v3 calls and streams, and v2 requests. */
export function requestCount(metrics: string): number {
  const { rpcs, v2Requests } = parseEtcdCounters(metrics);
  return rpcs + v2Requests;
}

/** A unit file's options in the API's form (sections and repeated keys kept, in order). */
export function unitOptions(body: string): { section: string; name: string; value: string }[] {
  return [...parseUnitFile(body)].map((o) => ({ section: o.section, name: o.name, value: o.value }));
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** Ours: the candidate under `engine/leader/` with the lowest create revision (its value is the machine ID). */
async function ourLeader(clientUrl: string): Promise<string | undefined> {
  const prefix = '/_coreos.com/fleet/engine/leader/';
  const end = `${prefix.slice(0, -1)}${String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)}`;
  const res = await httpRequest({ url: `${clientUrl}/v3/kv/range` }, { method: 'POST', body: { key: b64(prefix), range_end: b64(end), sort_order: 'ASCEND', sort_target: 'CREATE', limit: 1 } });
  const body = JSON.parse(res.body) as { kvs?: { value: string }[] };
  const value = body.kvs?.[0]?.value;
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString();
}

/** The original: the v2 key `lease/engine-leader`, whose value names the leader's machine ID. */
async function fleetLeader(clientUrl: string): Promise<string | undefined> {
  const res = await httpRequest({ url: `${clientUrl}/v2/keys/_coreos.com/fleet/lease/engine-leader` });
  if (res.status !== 200) return undefined;
  const value = (JSON.parse(res.body) as { node?: { value?: string } }).node?.value;
  if (value === undefined) return undefined;
  try {
    return (JSON.parse(value) as { MachineID?: string }).MachineID;
  } catch {
    return value;
  }
}
