import { readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { Etcd3 } from 'etcd3';
import { Engine, EtcdLeadership, InvalidConfigError, systemClock, type Clock, type FleetdConfig, type Logger } from '@fleet/engine';
import { httpForwarder, readApiTls, startApiServer, type ApiServer, type UnitInspection } from '@fleet/engine/api';
import { parseMachineId, type MachineId, type MachineState } from '@fleet/engine/model';
import { EtcdRegistry, MachinePresence } from '@fleet/engine/registry';
import { Agent } from './agent.js';
import { formatUnitStatus } from './format-unit-status.js';
import { SystemdUnitInspector } from './systemd/systemd-unit-inspector.js';
import { SystemdUnitManager } from './systemd/systemd-unit-manager.js';
import { UnitStatePublisher } from './unit-state-publisher.js';

/** fleetd's version, reported in machine presence and `fleetctl version`. */
export const fleetdVersion = '0.1.0';

/** An API request waits at most this many etcd request timeouts for the registry, then answers 503. */
const apiRegistryTimeouts = 3;

/** The agent's reconcile interval (fleet's is 5 s); watches make it a safety net. */
const agentReconcileIntervalMs = 5_000;

/** A running fleetd: the engine (unless disabled), the agent, the state publisher and the API. */
export interface RunningFleetd {
  readonly machine: MachineState;
  readonly api: ApiServer;
  /** Settles when every component has stopped (after `stop()` or a fatal error). */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

/**
 * The composition root: builds every component from the configuration and runs them until stopped.
 * Stopping leaves units running and lets the presence lease expire on its own (a restarted fleetd
 * re-attaches before the TTL, so nothing is rescheduled), unlike fleet, which stopped every unit.
 */
export async function startFleetd(config: FleetdConfig, log: Logger, clock: Clock = systemClock): Promise<RunningFleetd> {
  const machineId = await resolveMachineId(config);
  // Unreadable or mismatched TLS files stop fleetd here, before anything starts.
  const tls = config.apiTls === undefined ? undefined : await readApiTls(config.apiTls);
  const publicIp = config.publicIp || detectPublicIp();
  log = log.child({ machine: machineId.slice(0, 8) });
  const client = new Etcd3({ hosts: [...config.etcdServers], dialTimeout: config.etcdRequestTimeoutMs });
  const registry = new EtcdRegistry(client, config.etcdKeyPrefix, log.child({ component: 'registry' }));
  const busAddress = config.systemdBusAddress ?? (config.systemdUser ? process.env['DBUS_SESSION_BUS_ADDRESS'] : undefined);
  const units = await SystemdUnitManager.connect({
    ...(busAddress === undefined ? {} : { busAddress }),
    unitsDirectory: config.unitsDirectory,
    logger: log.child({ component: 'systemd' }),
  });
  // A user instance in its own cgroup (the local cluster) is invisible to journalctl -u.
  const inspector = new SystemdUnitInspector({ busAddress, journalMatch: busAddress === undefined ? 'unit-name' : 'control-group' });
  const inspection: UnitInspection = {
    machineId,
    localStatus: async (unit) => {
      const detail = await inspector.status(unit);
      return { text: formatUnitStatus(detail, clock.now()), unit: detail };
    },
    localJournal: (unit, options) => inspector.journal(unit, options),
    forward: httpForwarder({ tls }),
  };
  const api = await startApiServer(
    { units: registry, cluster: registry, machines: registry, tokenLimit: config.tokenLimit, registryTimeoutMs: apiRegistryTimeouts * config.etcdRequestTimeoutMs, inspection },
    { socketPath: config.apiSocket, tcp: config.apiListen, allowRemote: config.apiAllowRemote, tls },
    log.child({ component: 'api' }),
  );
  const apiUrl = api.tcpAddress === undefined ? undefined : `${tls === undefined ? 'http' : 'https'}://${reachableAddress(api.tcpAddress, publicIp)}`;
  const machine: MachineState = {
    id: machineId, publicIp, metadata: config.metadata, version: fleetdVersion, ...(apiUrl === undefined ? {} : { apiUrl }),
  };
  const presence = new MachinePresence(client, config.etcdKeyPrefix, machine, config.agentTtlSeconds, clock, log.child({ component: 'presence' }));
  const controller = new AbortController();
  const signal = controller.signal;
  await presence.start(signal);

  const agent = new Agent({ machineId, registry, units, clock, log: log.child({ component: 'agent' }), reconcileIntervalMs: agentReconcileIntervalMs });
  const publisher = new UnitStatePublisher({
    machineId, units, sink: presence, clock, log: log.child({ component: 'publisher' }), intervalMs: agentReconcileIntervalMs, agentStates: agent.reached,
  });
  const components: Promise<void>[] = [agent.run(signal), publisher.run(signal, agent.afterChange, agent.firstPass)];
  if (!config.disableEngine) {
    // fleet's leader lease TTL is 5 × the reconcile interval.
    const ttlSeconds = Math.max(2, Math.ceil((5 * config.engineReconcileIntervalMs) / 1000));
    const leadership = new EtcdLeadership(client, config.etcdKeyPrefix, ttlSeconds, clock, log.child({ component: 'leader' }));
    const engine = new Engine({ machineId, registry, leadership, clock, log: log.child({ component: 'engine' }), reconcileIntervalMs: config.engineReconcileIntervalMs });
    components.push(engine.run(signal));
  }
  log.info('fleetd started', { machineId, publicIp: machine.publicIp, metadata: machine.metadata, api: config.apiSocket, tcp: api.tcpAddress, tls: tls === undefined ? 'off' : tls.ca === undefined ? 'server' : 'mutual' });

  // The first component error wins; the rest are stopped and awaited.
  let firstError: unknown;
  const done = (async () => {
    await Promise.allSettled(components.map((p) => p.catch((err: unknown) => {
      firstError ??= err;
      controller.abort(err);
      throw err;
    })));
    await api.close();
    await presence.stop({ revoke: false });
    await units.close().catch(() => undefined);
    await inspector.close().catch(() => undefined);
    client.close();
    if (firstError !== undefined) throw firstError;
  })();
  return {
    machine,
    api,
    done,
    stop: async () => {
      controller.abort(new Error('fleetd stopping'));
      await done;
    },
  };
}

async function resolveMachineId(config: FleetdConfig): Promise<MachineId> {
  const source = config.machineId ?? (await readFile(config.machineIdFile, 'utf8').catch((err: unknown) => {
    throw new InvalidConfigError('machine_id_file', `cannot read ${config.machineIdFile}: ${(err as Error).message}`);
  }));
  try {
    return parseMachineId(source);
  } catch (err) {
    throw new InvalidConfigError(config.machineId === undefined ? 'machine_id_file' : 'machine_id', (err as Error).message);
  }
}

/** `host:port` other machines can dial: a wildcard bind address is replaced by the public IP. */
function reachableAddress(bound: string, publicIp: string): string {
  const colon = bound.lastIndexOf(':');
  const host = bound.slice(0, colon);
  const port = bound.slice(colon + 1);
  const dialable = host === '0.0.0.0' || host === '::' ? publicIp : host;
  return `${dialable.includes(':') ? `[${dialable}]` : dialable}:${port}`;
}

/** fleet picks the first non-loopback IPv4 address; so do we, falling back to loopback. */
function detectPublicIp(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}
