import { readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { FleetError, InvalidConfigError, systemClock, type Clock, type Logger } from '@fleet/core';
import { planReload, type ReloadPlan } from './config-reload.js';
import { type FleetdConfig } from './config.js';
import { httpForwarder, readApiTls, startApiServer, type ApiDeps, type ApiServer, type UnitInspection } from '@fleet/api';
import { parseMachineId, type MachineId, type MachineState, type UnitName } from '@fleet/core/model';
import { checkEtcdAccess, connectEtcd, EtcdClusterCache, EtcdRegistry, type EtcdConnection, type EtcdConnectionOptions } from '@fleet/etcd';
import { KeySchema, RegistryOutages } from '@fleet/core/registry';
import { FleetdGeneration } from './fleetd-generation.js';
import { AtMostOnceUnits, formatUnitStatus, purgeUnits, SystemdConnection, SystemdUnitInspector, SystemdUnitManager, SystemdWatchdog } from '@fleet/agent';
import { PresenceLeaseFile } from './presence-file.js';

/** fleetd's version, reported in machine presence and `fleetctl version`. */
export const fleetdVersion = '0.1.0';

/** An API request waits at most this many etcd request timeouts for the registry, then answers 503. */
const apiRegistryTimeouts = 3;

/** A graceful stop waits this long for the units it stops (fleet's shutdown timeout is 1 min). */
const purgeTimeoutMs = 60_000;

/**
 * How fleetd stops. `purge` is fleet's graceful stop: this machine's units are stopped and unloaded,
 * then its presence is revoked, so the engine moves them at once and none runs twice. `hand-over`
 * leaves the units running and the presence to expire after `agent_ttl`: a fleetd started before
 * that (a restart, an upgrade) takes the machine over and nothing moves (fleet #1086).
 */
export type ShutdownMode = 'purge' | 'hand-over';

/** A running fleetd: the engine (unless disabled), the agent, the state publisher and the API. */
export interface RunningFleetd {
  /** The machine as it is registered now (a reload may change its metadata and IP). */
  readonly machine: MachineState;
  readonly api: ApiServer;
  /** Settles when fleetd has stopped (after `stop()`, or a fatal error: then it rejects). */
  readonly done: Promise<void>;
  /**
   * Stops fleetd: `purge` or `hand-over`; by default the one `shutdown_leave_units` selects, read
   * when the stop begins (after reloads requested before it). Later calls do nothing.
   */
  /**
   * Applies a new configuration, as SIGHUP does: the components restart with it while the API keeps
   * answering and the units keep running; the machine's record is taken over by the new presence
   * before the old one expires, so nothing moves. Options that cannot change (see `planReload`)
   * keep their running values, with a warning. After `stop()`, does nothing.
   */
  reload(config: FleetdConfig): Promise<ReloadPlan>;
  stop(mode?: ShutdownMode): Promise<void>;
}

/**
 * The composition root: builds every component from the configuration and runs them until stopped.
 * It resolves once the API listens; the machine joins the cluster in the background (at once, or
 * once etcd answers, or, if another live machine holds its ID, once that one's record expires).
 */
export async function startFleetd(config: FleetdConfig, log: Logger, clock: Clock = systemClock): Promise<RunningFleetd> {
  const machineId = await resolveMachineId(config);
  // Unreadable or mismatched TLS files stop fleetd here, before anything starts.
  const tls = config.apiTls === undefined ? undefined : await readApiTls(config.apiTls);
  log = log.child({ machine: machineId.slice(0, 8) });
  let current = connect(config, log);
  // Credentials etcd refuses stay refused: better an exit naming them than a fleetd retrying
  // forever. Checked before systemd is touched, so a refused fleetd changes nothing on the machine.
  const access = await checkEtcdAccess(current.client, etcdOptions(config), config.etcdKeyPrefix);
  if (access.refused) {
    closeConnection(current);
    const who = config.etcdAuth === undefined ? 'without etcd_username' : `as etcd_username=${config.etcdAuth.username}`;
    throw new FleetError('REGISTRY_REFUSED', `etcd (${config.etcdServers.join(',')}) refused fleetd ${who}: ${access.reason}`);
  }
  const busAddress = config.systemdBusAddress ?? (config.systemdUser ? process.env['DBUS_SESSION_BUS_ADDRESS'] : undefined);
  // One D-Bus connection for the whole fleetd: the unit manager and the inspector share it, reloads
  // keep it, and only the shutdown below closes it.
  const systemdLog = log.child({ component: 'systemd' });
  const systemd = await SystemdConnection.open({ busAddress, logger: systemdLog }).catch((err: unknown) => {
    closeConnection(current);
    throw err;
  });
  // Half the TTL: a killed or stopped fleetd's units stop before its lease can expire and the engine
  // starts them elsewhere (keepalives go every third of the TTL, so the lease outlives the last one by at least two thirds).
  const watchdogTimeoutMs = (config.agentTtlSeconds * 1000) / 2;
  const watchdog = await SystemdWatchdog.install(systemd, { unitsDirectory: config.unitsDirectory, timeoutMs: watchdogTimeoutMs, clock, logger: systemdLog })
    .catch(async (err: unknown) => {
      closeConnection(current);
      await systemd.close();
      throw err;
    });
  const units = new SystemdUnitManager(systemd, { unitsDirectory: config.unitsDirectory, logger: systemdLog, watchdog: watchdog.binding });
  const bound = await units.bindLoadedUnits();
  if (bound.length > 0) log.info('bound units loaded without a watchdog to it', { units: bound });
  /** Units the agents started and have not stopped since (see Agent); systemd stops them all when the watchdog fires. */
  const started = new Set<UnitName>();
  const atMostOnce = new AtMostOnceUnits();
  const heartbeat = new AbortController();
  void watchdog.run(heartbeat.signal, () => started.clear()).catch((err: unknown) => log.error('the watchdog heartbeat stopped; systemd will stop the units when the watchdog times out', { err }));
  // A user instance in its own cgroup (the local cluster) is invisible to journalctl -u.
  const inspector = new SystemdUnitInspector(systemd, { journalMatch: busAddress === undefined ? 'unit-name' : 'control-group' });
  const inspection: UnitInspection = {
    machineId,
    localStatus: async (unit) => {
      const detail = await inspector.status(unit);
      return { text: formatUnitStatus(detail, clock.now()), unit: detail };
    },
    localJournal: (unit, options) => inspector.journal(unit, options),
    forward: httpForwarder({ tls }),
  };

  let refusal: string | undefined;
  // The API outlives reloads: it reads the current registry and options at every request.
  const apiDeps: ApiDeps = {
    get units() {
      return current.registry;
    },
    get cluster() {
      return current.cache;
    },
    get machines() {
      return current.registry;
    },
    get tokenLimit() {
      return current.config.tokenLimit;
    },
    get registryTimeoutMs() {
      return apiRegistryTimeouts * current.config.etcdRequestTimeoutMs;
    },
    inspection,
    unavailable: () => refusal,
  };
  const api = await startApiServer(
    apiDeps,
    { socketPath: config.apiSocket, tcp: config.apiListen, allowRemote: config.apiAllowRemote, tls },
    log.child({ component: 'api' }),
  ).catch(async (err: unknown) => {
    closeConnection(current);
    heartbeat.abort();
    await units.close().catch(() => undefined);
    await systemd.close();
    throw err;
  });
  const apiUrl = api.tcpAddress === undefined ? undefined : `${tls === undefined ? 'http' : 'https'}://${reachableAddress(api.tcpAddress, config.publicIp || detectPublicIp())}`;
  const machineFor = (c: FleetdConfig): MachineState => ({
    id: machineId, publicIp: c.publicIp || detectPublicIp(), metadata: c.metadata, version: fleetdVersion, ...(apiUrl === undefined ? {} : { apiUrl }),
  });

  // A client replaced by a reload is closed once the API requests that may still use it had their time.
  const retired = new Set<Connection>();
  const retire = (old: Connection): void => {
    retired.add(old);
    setTimeout(() => {
      if (retired.delete(old)) closeConnection(old);
    }, apiRegistryTimeouts * old.config.etcdRequestTimeoutMs).unref();
  };
  const outages = new RegistryOutages();
  const leaseFile = new PresenceLeaseFile(join(config.unitsDirectory, '.fleetd-presence.json'), log);
  let machine = machineFor(config);
  let stopping = false;
  let finish: (err?: unknown) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    finish = (err) => (err === undefined ? resolve() : reject(err));
  });
  // Reloads, evictions and the stop happen one after the other, never interleaved.
  let queue: Promise<unknown> = Promise.resolve();
  const serially = <T>(step: () => Promise<T>): Promise<T> => {
    const next = queue.then(step);
    queue = next.catch(() => undefined);
    return next;
  };

  const startGeneration = (inherited: readonly string[]): FleetdGeneration => {
    const generation: FleetdGeneration = new FleetdGeneration({
      config: current.config, machine, client: current.client, registry: current.registry, cache: current.cache, units, clock, log, outages, started, atMostOnce,
      inheritedLeases: [...new Set([...inherited, ...leaseFile.read(machineId)])],
      onRegistered: (leaseId) => {
        refusal = undefined;
        leaseFile.write(machineId, leaseId);
      },
      onRefused: (holder, registered) => {
        refusal = `fleet server unavailable: machine ID ${machineId} is already registered by another live machine${holder === undefined ? '' : ` (${holder.publicIp})`}; this fleetd joins once that registration expires`;
        // Our record was taken while our lease was lost: stop acting for the machine until it is ours again.
        if (registered) void serially(async () => {
          if (stopping || generation !== active) return;
          log.error('another live machine took over this machine ID; stopping the components until it is free again');
          await active.stopComponents();
          await active.endPresence({ revoke: false });
          active = startGeneration([]);
        });
      },
    });
    generation.done.catch((err: unknown) => {
      if (stopping || generation !== active) return;
      log.error('fleetd component failed; stopping (units are left running)', { err });
      void shutdown('hand-over', err);
    });
    return generation;
  };
  let active = startGeneration([]);
  log.info('fleetd started', { machineId, publicIp: machine.publicIp, metadata: machine.metadata, api: config.apiSocket, tcp: api.tcpAddress, tls: tls === undefined ? 'off' : tls.ca === undefined ? 'server' : 'mutual' });

  const shutdown = (requested: ShutdownMode | undefined, failure?: unknown): Promise<void> => serially(async () => {
    if (stopping) return;
    stopping = true;
    // Decided here, after any reload queued before the stop: that reload may have set the option.
    const mode = requested ?? (current.config.shutdownLeaveUnits ? 'hand-over' : 'purge');
    log.info(mode === 'purge' ? 'shutting down: stopping and unloading this machine\'s units' : 'shutting down: handing over, units keep running');
    await active.stopComponents();
    if (mode === 'purge') {
      // Units first, presence last: until the record is gone nobody reschedules what still runs here.
      await purgeUnits(units, clock, log.child({ component: 'agent' }), purgeTimeoutMs).catch((err: unknown) => log.error('purge failed', { err }));
      heartbeat.abort();
      await watchdog.stop().catch((err: unknown) => log.error('cannot stop the watchdog', { err }));
      await active.endPresence({ revoke: true });
      leaseFile.clear();
    } else {
      heartbeat.abort();
      const lease = await active.endPresence({ revoke: false });
      log.info('handing over: units keep running; unless a fleetd takes over first, systemd stops them when the watchdog times out, and then the machine record expires', {
        leaseId: lease, watchdogTimeoutMs, ttlSeconds: current.config.agentTtlSeconds,
      });
    }
    await api.close();
    await units.close().catch(() => undefined);
    await inspector.close().catch(() => undefined);
    await systemd.close();
    closeConnection(current);
    for (const old of retired) closeConnection(old);
    retired.clear();
    finish(failure);
  });

  return {
    get machine() {
      return machine;
    },
    api,
    done,
    reload: (next) => serially(async () => {
      const plan = planReload(current.config, next);
      if (stopping) return plan;
      if (plan.kept.length > 0) log.warn('options that cannot change while fleetd runs keep their running values; restart fleetd to apply them', { options: plan.kept });
      if (plan.changed.length === 0) {
        log.info('configuration reloaded: nothing to change');
        return plan;
      }
      await active.stopComponents();
      const lease = await active.endPresence({ revoke: false });
      const previous = current;
      current = plan.changed.some((o) => o.startsWith('etcd_') && o !== 'etcd_key_prefix') ? connect(plan.config, log) : { ...current, config: plan.config };
      machine = machineFor(current.config);
      active = startGeneration(lease === undefined ? [] : [lease]);
      if (previous.client !== current.client) retire(previous);
      log.info('configuration reloaded: components restarted with it', { changed: plan.changed });
      return plan;
    }),
    stop: (mode) => shutdown(mode),
  };
}

interface Connection {
  readonly config: FleetdConfig;
  readonly client: EtcdConnection;
  readonly registry: EtcdRegistry;
  /** One cluster cache per connection, fed by one watch: what the API and the engine read. */
  readonly cache: EtcdClusterCache;
  readonly stopCache: AbortController;
}

function connect(config: FleetdConfig, log: Logger): Connection {
  const client = connectEtcd(etcdOptions(config));
  const registry = new EtcdRegistry(client, config.etcdKeyPrefix, log.child({ component: 'registry' }));
  const cache = new EtcdClusterCache(client, new KeySchema(config.etcdKeyPrefix), log.child({ component: 'cluster-cache' }));
  const stopCache = new AbortController();
  // Fills in the background: reads wait for the first fill (or answer 503 while etcd is down).
  void cache.start(stopCache.signal);
  return { config, client, registry, cache, stopCache };
}

function etcdOptions(config: FleetdConfig): EtcdConnectionOptions {
  return { servers: config.etcdServers, requestTimeoutMs: config.etcdRequestTimeoutMs, tls: config.etcdTls, auth: config.etcdAuth };
}

function closeConnection(c: Connection): void {
  c.stopCache.abort();
  c.client.close();
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
