/**
 * A worker process of `npm run bench:scale` (forked, Node IPC; see protocol.ts): runs simulated
 * fleetds, each the real components as fleetd wires them (`FleetdGeneration`: its own presence and
 * lease, agent with its own schedule watch, state publisher, and with `engine` the engine over its
 * own cluster cache) over an `InMemoryUnitManager` instead of systemd. The machines of one
 * process share one etcd connection; each has its own registry (and unit-file cache).
 */
import { systemClock, type LogFields, type Logger } from '@fleet/core';
import type { MachineState, UnitName } from '@fleet/core/model';
import { KeySchema, RegistryOutages } from '@fleet/core/registry';
import { AtMostOnceUnits } from '@fleet/agent';
import { InMemoryUnitManager } from '@fleet/agent/testing';
import { connectEtcd, EtcdClusterCache, EtcdRegistry, type EtcdConnection } from '@fleet/etcd';
import { FleetdGeneration, loadConfig } from '@fleet/fleetd/generation';
import { steadyPass, TimedClusterCache, TimedRegistry } from './engine-timing.js';
import type { EngineReport, MemoryReport, Reply, Request, StartRequest } from './protocol.js';

/** Counts warnings and errors, keeping the first few, so the bench can say what went wrong. */
class CountingLogger implements Logger {
  warnings = 0;
  errors = 0;
  readonly first: string[] = [];
  constructor(private readonly fields: LogFields = {}, private readonly root?: CountingLogger) {}
  debug(): void {}
  info(): void {}
  warn(msg: string, fields?: LogFields): void {
    const r = this.root ?? this;
    r.warnings++;
    r.note('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    const r = this.root ?? this;
    r.errors++;
    r.note('error', msg, fields);
  }
  child(fields: LogFields): Logger {
    return new CountingLogger({ ...this.fields, ...fields }, this.root ?? this);
  }
  private note(level: string, msg: string, fields?: LogFields): void {
    if (this.first.length >= 5) return;
    const err = fields?.['err'];
    this.first.push(`${level} ${String(this.fields['component'] ?? '')}: ${msg}${err instanceof Error ? ` (${err.message})` : ''}`);
  }
}

const log = new CountingLogger();
const rssBefore = process.memoryUsage().rss;
const fleetds = new Map<string, FleetdGeneration>();
let connection: EtcdConnection | undefined;
let engine: { readonly registry: TimedRegistry; readonly cache: TimedClusterCache; readonly stop: AbortController } | undefined;

async function start(req: StartRequest): Promise<Reply> {
  const started = performance.now();
  const client = connectEtcd({ servers: [req.etcdUrl], requestTimeoutMs: 10_000 });
  connection = client;
  const config = loadConfig({ flags: {
    etcd_servers: req.etcdUrl, etcd_key_prefix: req.prefix, agent_ttl: `${req.ttlSeconds}s`, disable_engine: String(!req.engine), etcd_request_timeout: '10',
  } });
  const keys = new KeySchema(req.prefix);
  if (req.engine) {
    const cache = new TimedClusterCache(client, keys, log.child({ component: 'cluster-cache' }));
    const registry = new TimedRegistry(client, req.prefix, log.child({ component: 'registry' }));
    registry.cache = cache;
    engine = { registry, cache, stop: new AbortController() };
    await cache.start(engine.stop.signal);
  }
  const registered: Promise<void>[] = [];
  for (const machine of req.machines) registered.push(startFleetd(client, config, keys, machine));
  await Promise.all(registered);
  return { kind: 'started', ms: performance.now() - started };
}

function startFleetd(client: EtcdConnection, config: ReturnType<typeof loadConfig>, keys: KeySchema, machine: MachineState): Promise<void> {
  return new Promise((resolve) => {
    const generation = new FleetdGeneration({
      config, machine, client,
      registry: engine?.registry ?? new EtcdRegistry(client, config.etcdKeyPrefix, log.child({ component: 'registry' })),
      // Read by the engine only: a worker's plain machines never start theirs.
      cache: engine?.cache ?? new EtcdClusterCache(client, keys, log),
      units: new InMemoryUnitManager(), clock: systemClock, log: log.child({ machine: machine.id }), outages: new RegistryOutages(),
      started: new Set<UnitName>(), atMostOnce: new AtMostOnceUnits(), inheritedLeases: [],
      onRegistered: () => resolve(), onRefused: () => undefined,
    });
    generation.done.catch((err: unknown) => log.error('fleetd generation failed', { err }));
    fleetds.set(machine.id, generation);
  });
}

/** Dies as a SIGKILLed fleetd would, seen from etcd: no revoke, the lease just stops being kept alive. */
async function kill(ids: readonly string[]): Promise<Reply> {
  await Promise.all(ids.map(async (id) => {
    const generation = fleetds.get(id);
    fleetds.delete(id);
    await generation?.stopComponents();
    await generation?.endPresence({ revoke: false });
  }));
  return { kind: 'killed' };
}

function memory(): Reply {
  const m = process.memoryUsage();
  const report: MemoryReport = { rss: m.rss, heapUsed: m.heapUsed, rssBefore, machines: fleetds.size, warnings: log.warnings, errors: log.errors, firstProblems: log.first };
  return { kind: 'memory', memory: report };
}

async function engineReport(): Promise<Reply> {
  const report: EngineReport = engine === undefined || engine.registry.passes.length === 0
    ? { passes: engine?.registry.passes ?? [], steady: undefined }
    : { passes: engine.registry.passes, steady: await steadyPass(engine.cache) };
  return { kind: 'engine', engine: report };
}

async function stop(): Promise<Reply> {
  await Promise.all([...fleetds.values()].map(async (g) => {
    await g.stopComponents();
    await g.endPresence({ revoke: true });
  }));
  fleetds.clear();
  engine?.stop.abort();
  connection?.close();
  return { kind: 'stopped' };
}

async function handle(request: Request): Promise<Reply> {
  switch (request.kind) {
    case 'start': return start(request);
    case 'kill': return kill(request.ids);
    case 'memory': return memory();
    case 'engine': return engineReport();
    case 'stop': return stop();
  }
}

process.on('message', (m: { id: number; request: Request }) => {
  void handle(m.request).then(
    (reply) => reply,
    (err: unknown): Reply => ({ kind: 'error', message: err instanceof Error ? err.stack ?? err.message : String(err) }),
  ).then((reply) => {
    process.send?.({ id: m.id, reply }, () => {
      if (reply.kind === 'stopped') process.exit(0);
    });
  });
});
// The bench is gone (it crashed or was killed): nothing of ours may outlive it.
process.on('disconnect', () => process.exit(1));
