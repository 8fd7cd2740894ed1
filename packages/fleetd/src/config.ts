import { accessSync, constants as fsConstants } from 'node:fs';
import { parse as parseIni } from 'ini';
import type { ApiTlsConfig } from '@fleet/api';
import { InvalidConfigError } from '@fleet/core';
import { parseBooleanWord, parseMetadata, type Metadata } from '@fleet/core/model';

/** fleetd's validated configuration. Option names follow fleet's `fleet.conf` (FLEET.md §1.3). */
export interface FleetdConfig {
  readonly etcdServers: readonly string[];
  readonly etcdKeyPrefix: string;
  readonly etcdRequestTimeoutMs: number;
  /** fleet's `etcd_cafile`, `etcd_certfile`, `etcd_keyfile`: TLS to etcd (paths, checked readable). */
  readonly etcdTls: EtcdTlsFiles | undefined;
  /** fleet's `etcd_username` and `etcd_password`: etcd's own authentication. */
  readonly etcdAuth: { readonly username: string; readonly password: string } | undefined;
  readonly metadata: Metadata;
  /** Empty: detect. */
  readonly publicIp: string;
  readonly agentTtlSeconds: number;
  readonly engineReconcileIntervalMs: number;
  readonly disableEngine: boolean;
  readonly unitsDirectory: string;
  /** fleet's `systemd_user`: talk to the user instance (session bus) instead of the system instance. */
  readonly systemdUser: boolean;
  /** Ours: explicit D-Bus address of the systemd instance (e.g. `unix:path=/run/user/0/bus`). */
  readonly systemdBusAddress: string | undefined;
  /** Ours: explicit machine ID; when absent it is read from {@link machineIdFile}. */
  readonly machineId: string | undefined;
  readonly machineIdFile: string;
  /** Unix socket of the HTTP API (fleet's `fleet.socket`). */
  readonly apiSocket: string;
  /** Ours: optional TCP `host:port` for the API; loopback only unless mutual TLS ({@link apiTls} with a CA) or {@link apiAllowRemote}. */
  readonly apiListen: string | undefined;
  readonly apiAllowRemote: boolean;
  /** Ours: HTTPS on {@link apiListen} (`api_cert_file` + `api_key_file`, optional `api_ca_file`). */
  readonly apiTls: ApiTlsConfig | undefined;
  readonly tokenLimit: number;
  readonly verbosity: number;
  /**
   * Ours: on SIGTERM, leave this machine's units running and its presence to expire after
   * `agent_ttl` (a restart or upgrade hands over to the next fleetd), instead of fleet's stop,
   * which stops and unloads them so that they move elsewhere at once.
   */
  readonly shutdownLeaveUnits: boolean;
}

/** TLS files for etcd: a CA to verify the members (else the system's roots) and a client certificate with its key. */
export interface EtcdTlsFiles {
  readonly caFile: string | undefined;
  readonly certFile: string | undefined;
  readonly keyFile: string | undefined;
}

/** Every option fleetd accepts, with its default (as fleet spells it in `fleet.conf`). */
export const configDefaults: Readonly<Record<string, string>> = {
  etcd_servers: 'http://127.0.0.1:2379,http://127.0.0.1:4001',
  etcd_key_prefix: '/_coreos.com/fleet/',
  etcd_request_timeout: '1.0',
  etcd_cafile: '',
  etcd_certfile: '',
  etcd_keyfile: '',
  etcd_username: '',
  etcd_password: '',
  metadata: '',
  public_ip: '',
  agent_ttl: '30s',
  engine_reconcile_interval: '2.0',
  disable_engine: 'false',
  units_directory: '/run/fleet/units/',
  systemd_user: 'false',
  systemd_bus_address: '',
  machine_id: '',
  machine_id_file: '/etc/machine-id',
  api_socket: '/var/run/fleet.sock',
  api_listen: '',
  api_allow_remote: 'false',
  api_cert_file: '',
  api_key_file: '',
  api_ca_file: '',
  token_limit: '100',
  verbosity: '0',
  shutdown_leave_units: 'false',
};

/** Options fleet knows that we accept and ignore (deprecated or not applicable). */
const ignoredOptions = new Set(['verify_units', 'authorized_keys_file', 'disable_watches']);

/**
 * Options fleet knows that this project does not implement: refused when set, so that a cluster
 * that depends on them fails loudly at start.
 */
const unsupportedOptions: Readonly<Record<string, string>> = {
  enable_grpc: 'the gRPC engine-agent transport is not supported (agents always use etcd)',
};

/**
 * Builds the configuration: defaults < INI file < `FLEET_<OPTION>` environment < flags.
 * Unknown options in the file or flags are errors naming the option; values are validated.
 */
export function loadConfig(sources: { fileText?: string; env?: Readonly<Record<string, string | undefined>>; flags?: Readonly<Record<string, string>> }): FleetdConfig {
  const raw: Record<string, string> = { ...configDefaults };
  if (sources.fileText !== undefined) {
    const parsed = parseIni(sources.fileText) as Record<string, unknown>;
    for (const [key, value] of Object.entries(parsed)) {
      if (typeof value === 'object') throw new InvalidConfigError(key, 'sections are not supported in fleet.conf');
      setOption(raw, key, String(value), 'config file');
    }
  }
  for (const [envKey, value] of Object.entries(sources.env ?? {})) {
    if (!envKey.startsWith('FLEET_') || value === undefined) continue;
    const key = envKey.slice('FLEET_'.length).toLowerCase();
    if (key in configDefaults || key in unsupportedOptions) setOption(raw, key, value, 'environment');
  }
  for (const [key, value] of Object.entries(sources.flags ?? {})) setOption(raw, key.replace(/-/g, '_'), value, 'flags');
  return validate(raw);
}

function setOption(raw: Record<string, string>, key: string, value: string, where: string): void {
  if (ignoredOptions.has(key)) return;
  const unsupported = unsupportedOptions[key];
  if (unsupported !== undefined) {
    if (value.trim() === '' || (key === 'enable_grpc' && parseBooleanWord(value) === false)) return;
    throw new InvalidConfigError(key, unsupported);
  }
  if (!(key in configDefaults)) throw new InvalidConfigError(key, `unknown option (in ${where})`);
  raw[key] = value;
}

function validate(raw: Record<string, string>): FleetdConfig {
  const get = (k: string): string => (raw[k] ?? '').trim();
  const etcdServers = get('etcd_servers').split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (etcdServers.length === 0) throw new InvalidConfigError('etcd_servers', 'at least one URL is required');
  for (const url of etcdServers) if (!/^https?:\/\/[^/]+/.test(url)) throw new InvalidConfigError('etcd_servers', `${JSON.stringify(url)} is not an http(s) URL`);
  let metadata: Metadata;
  try {
    metadata = parseMetadata(get('metadata'));
  } catch (err) {
    throw new InvalidConfigError('metadata', (err as Error).message);
  }
  const apiSocket = get('api_socket');
  if (apiSocket === '') throw new InvalidConfigError('api_socket', 'must not be empty');
  const unitsDirectory = get('units_directory');
  if (!unitsDirectory.startsWith('/')) throw new InvalidConfigError('units_directory', 'must be an absolute path');
  const apiListen = get('api_listen');
  if (apiListen !== '' && !/^[^:]+:\d+$/.test(apiListen)) throw new InvalidConfigError('api_listen', 'must be host:port');
  const apiTls = tlsConfig(get('api_cert_file'), get('api_key_file'), get('api_ca_file'), apiListen);
  const prefix = get('etcd_key_prefix');
  if (!prefix.startsWith('/')) throw new InvalidConfigError('etcd_key_prefix', 'must start with "/"');
  return {
    etcdServers,
    etcdKeyPrefix: prefix,
    etcdRequestTimeoutMs: seconds('etcd_request_timeout', get('etcd_request_timeout')) * 1000,
    etcdTls: etcdTlsFiles(get('etcd_cafile'), get('etcd_certfile'), get('etcd_keyfile')),
    etcdAuth: etcdAuth(get('etcd_username'), raw['etcd_password'] ?? ''),
    metadata,
    publicIp: get('public_ip'),
    agentTtlSeconds: duration('agent_ttl', get('agent_ttl')),
    engineReconcileIntervalMs: seconds('engine_reconcile_interval', get('engine_reconcile_interval')) * 1000,
    disableEngine: bool('disable_engine', get('disable_engine')),
    unitsDirectory,
    systemdUser: bool('systemd_user', get('systemd_user')),
    systemdBusAddress: get('systemd_bus_address') || undefined,
    machineId: get('machine_id') || undefined,
    machineIdFile: get('machine_id_file'),
    apiSocket,
    apiListen: apiListen || undefined,
    apiAllowRemote: bool('api_allow_remote', get('api_allow_remote')),
    apiTls,
    tokenLimit: positiveInt('token_limit', get('token_limit')),
    verbosity: positiveInt('verbosity', get('verbosity'), true),
    shutdownLeaveUnits: bool('shutdown_leave_units', get('shutdown_leave_units')),
  };
}

function tlsConfig(certFile: string, keyFile: string, caFile: string, apiListen: string): ApiTlsConfig | undefined {
  if (certFile === '' && keyFile === '') {
    if (caFile !== '') throw new InvalidConfigError('api_ca_file', 'needs api_cert_file and api_key_file (the API must serve TLS to verify clients)');
    return undefined;
  }
  if (certFile === '') throw new InvalidConfigError('api_cert_file', 'must be set together with api_key_file');
  if (keyFile === '') throw new InvalidConfigError('api_key_file', 'must be set together with api_cert_file');
  if (apiListen === '') throw new InvalidConfigError('api_cert_file', 'TLS applies to the TCP listener: set api_listen too');
  return { certFile, keyFile, caFile: caFile === '' ? undefined : caFile };
}

function etcdTlsFiles(caFile: string, certFile: string, keyFile: string): EtcdTlsFiles | undefined {
  if (certFile !== '' && keyFile === '') throw new InvalidConfigError('etcd_certfile', 'needs etcd_keyfile (the client certificate\'s private key)');
  if (keyFile !== '' && certFile === '') throw new InvalidConfigError('etcd_keyfile', 'needs etcd_certfile (the client certificate of that key)');
  for (const [option, file] of [['etcd_cafile', caFile], ['etcd_certfile', certFile], ['etcd_keyfile', keyFile]] as const) {
    if (file === '') continue;
    try {
      accessSync(file, fsConstants.R_OK);
    } catch (err) {
      throw new InvalidConfigError(option, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  if (caFile === '' && certFile === '') return undefined;
  return { caFile: caFile || undefined, certFile: certFile || undefined, keyFile: keyFile || undefined };
}

/** The password is taken as written (not trimmed): spaces may be part of it. */
function etcdAuth(username: string, password: string): FleetdConfig['etcdAuth'] {
  if (username === '' && password === '') return undefined;
  if (username === '') throw new InvalidConfigError('etcd_password', 'needs etcd_username');
  if (password === '') throw new InvalidConfigError('etcd_username', 'needs etcd_password');
  return { username, password };
}

function seconds(option: string, value: string): number {
  const n = Number(value);
  if (value === '' || !Number.isFinite(n) || n <= 0) throw new InvalidConfigError(option, `${JSON.stringify(value)} is not a positive number of seconds`);
  return n;
}

/** Go-style durations as fleet accepts them for agent_ttl: `30s`, `2m`, `1m30s`; a bare number means seconds. */
function duration(option: string, value: string): number {
  if (/^\d+(\.\d+)?$/.test(value)) return seconds(option, value);
  const re = /(\d+(?:\.\d+)?)(h|ms|m|s)/g;
  let total = 0;
  let consumed = 0;
  for (const m of value.matchAll(re)) {
    const unit = m[2] ?? 's';
    total += Number(m[1]) * ({ h: 3600, m: 60, s: 1, ms: 0.001 } as Record<string, number>)[unit]!;
    consumed += m[0].length;
  }
  if (consumed !== value.length || total <= 0) throw new InvalidConfigError(option, `${JSON.stringify(value)} is not a duration such as "30s"`);
  if (total < 1) throw new InvalidConfigError(option, 'must be at least 1s');
  return Math.round(total);
}

function bool(option: string, value: string): boolean {
  // An option set to nothing (`disable_engine=`) is off, as the ini default would be.
  const parsed = value.trim() === '' ? false : parseBooleanWord(value);
  if (parsed !== undefined) return parsed;
  throw new InvalidConfigError(option, `${JSON.stringify(value)} is not a boolean`);
}

function positiveInt(option: string, value: string, allowZero = false): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) throw new InvalidConfigError(option, `${JSON.stringify(value)} is not a ${allowZero ? 'non-negative' : 'positive'} integer`);
  return n;
}
