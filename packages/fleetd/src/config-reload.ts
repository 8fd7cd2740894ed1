import type { FleetdConfig } from './config.js';

/** How each configuration field is named in fleet.conf, and whether a reload may change it. */
const fields: ReadonlyArray<{ readonly field: keyof FleetdConfig; readonly option: string; readonly reloadable: boolean }> = [
  { field: 'metadata', option: 'metadata', reloadable: true },
  { field: 'publicIp', option: 'public_ip', reloadable: true },
  { field: 'agentTtlSeconds', option: 'agent_ttl', reloadable: true },
  { field: 'engineReconcileIntervalMs', option: 'engine_reconcile_interval', reloadable: true },
  { field: 'disableEngine', option: 'disable_engine', reloadable: true },
  { field: 'etcdServers', option: 'etcd_servers', reloadable: true },
  { field: 'etcdRequestTimeoutMs', option: 'etcd_request_timeout', reloadable: true },
  { field: 'etcdTls', option: 'etcd_cafile/etcd_certfile/etcd_keyfile', reloadable: true },
  { field: 'etcdAuth', option: 'etcd_username/etcd_password', reloadable: true },
  { field: 'tokenLimit', option: 'token_limit', reloadable: true },
  { field: 'verbosity', option: 'verbosity', reloadable: true },
  { field: 'shutdownLeaveUnits', option: 'shutdown_leave_units', reloadable: true },
  // Who this machine is, which keyspace (cluster) it belongs to, which systemd and unit files it
  // drives and where clients reach it: changing these under running units would strand them or
  // the clients, so they take a restart (with shutdown_leave_units, one that moves nothing).
  { field: 'machineId', option: 'machine_id', reloadable: false },
  { field: 'machineIdFile', option: 'machine_id_file', reloadable: false },
  { field: 'etcdKeyPrefix', option: 'etcd_key_prefix', reloadable: false },
  { field: 'unitsDirectory', option: 'units_directory', reloadable: false },
  { field: 'systemdUser', option: 'systemd_user', reloadable: false },
  { field: 'systemdBusAddress', option: 'systemd_bus_address', reloadable: false },
  { field: 'apiSocket', option: 'api_socket', reloadable: false },
  { field: 'apiListen', option: 'api_listen', reloadable: false },
  { field: 'apiAllowRemote', option: 'api_allow_remote', reloadable: false },
  { field: 'apiTls', option: 'api_cert_file/api_key_file/api_ca_file', reloadable: false },
];

/** What a reload does with a new configuration. */
export interface ReloadPlan {
  /** The configuration to run with: the new one, except for the options in {@link kept}. */
  readonly config: FleetdConfig;
  /** Options that changed and will take effect (fleet.conf names). */
  readonly changed: readonly string[];
  /** Options that changed but cannot change while fleetd runs: their running values stay. */
  readonly kept: readonly string[];
}

/**
 * Decides what a reload (SIGHUP) applies: every option that changed, except those that identify
 * the machine, its keyspace, its systemd and its listeners, which keep their running values (the
 * caller logs a warning naming them). Pure: `current` and `next` are already validated.
 */
export function planReload(current: FleetdConfig, next: FleetdConfig): ReloadPlan {
  const config: Record<string, unknown> = { ...next };
  const changed: string[] = [];
  const kept: string[] = [];
  for (const { field, option, reloadable } of fields) {
    if (JSON.stringify(current[field]) === JSON.stringify(next[field])) continue;
    if (reloadable) changed.push(option);
    else {
      kept.push(option);
      config[field] = current[field];
    }
  }
  return { config: config as unknown as FleetdConfig, changed, kept };
}
