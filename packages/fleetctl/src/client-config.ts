import { FleetError } from '@fleet/core';
import type { ClientConfig } from './api-client.js';
import type { GlobalArgs } from './global-flags.js';
import { parseEndpoint } from './http-transport.js';
import type { TlsMaterial } from './http-transport.js';
import type { ReadTextFile } from './unit-source.js';

/**
 * Turns the global flags into what the API client needs, checking them as fleet's getClient does,
 * only when a command is about to use the API (`help` and `version` work whatever the flags):
 *
 * - `--driver` must be `API`: `etcd` (also implied by an empty driver and an etcd port 2379/4001
 *   in `--endpoint`) is refused, fleetctl only speaks the fleet API;
 * - `--tunnel` must be empty: SSH tunnelling is not supported;
 * - `--request-timeout` must be a number of seconds > 0;
 * - for an `https://` endpoint, `--ca-file`, `--cert-file` and `--key-file` (or their deprecated
 *   `--etcd-*` spellings) are read; a certificate needs its key and the reverse. They are ignored
 *   for other endpoints, as fleet ignores them (with a debug line).
 *
 * `--etcd-key-prefix`, `--experimental-api` and the SSH flags are accepted and ignored. Throws a
 * `FleetError` (`INVALID_CONFIG`) naming the flag at fault.
 */
export async function clientConfig(
  args: GlobalArgs,
  readFile: ReadTextFile,
  debug?: (line: string) => void,
): Promise<ClientConfig> {
  checkDriver(args.driver, args.endpoint);
  if (typeof args.tunnel === 'string' && args.tunnel !== '') {
    throw new FleetError('INVALID_CONFIG', `--tunnel is not supported: forward the API yourself (${sshForward(args.tunnel, args['ssh-username'])}) and use --endpoint http://127.0.0.1:49153`);
  }
  const seconds = args['request-timeout'];
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) {
    throw new FleetError('INVALID_CONFIG', `--request-timeout must be a number of seconds > 0, got ${String(seconds)}`);
  }
  const base = { endpoint: args.endpoint, timeoutMs: Math.round(seconds * 1000) };
  const withDebug = debug === undefined ? base : { ...base, debug };
  const files = tlsFiles(args);
  if (files.length === 0) return withDebug;
  if (parseEndpoint(args.endpoint).protocol !== 'https:') {
    debug?.(`ignoring ${files.map((f) => f.flag).join(', ')}: endpoint ${args.endpoint} is not https://`);
    return withDebug;
  }
  return { ...withDebug, tls: await readTls(files, readFile) };
}

// The ssh command that does what --tunnel did: host[:port], fleet's --ssh-username.
function sshForward(tunnel: string, user: string | undefined): string {
  const port = /:(\d+)$/.exec(tunnel)?.[1];
  const host = port === undefined ? tunnel : tunnel.slice(0, -(port.length + 1));
  const target = host.includes('@') || user === undefined || user === '' ? host : `${user}@${host}`;
  return `ssh -N -L 49153:/var/run/fleet.sock${port === undefined || port === '22' ? '' : ` -p ${port}`} ${target}`;
}

const etcdPorts = new Set(['2379', '4001']);

function checkDriver(driver: string, endpoint: string): void {
  if (driver === 'API') return;
  if (driver === 'etcd' || (driver === '' && looksLikeEtcd(endpoint))) {
    throw new FleetError('INVALID_CONFIG', '--driver=etcd is not supported: this fleetctl only talks to the fleet API (--driver=API)');
  }
  throw new FleetError('INVALID_CONFIG', `unrecognized driver ${JSON.stringify(driver)} (the only driver is "API")`);
}

// fleet: an empty --driver with an --endpoint on an etcd port means --driver=etcd.
function looksLikeEtcd(endpoint: string): boolean {
  try {
    return etcdPorts.has(new URL((endpoint.split(',')[0] ?? '').trim()).port);
  } catch {
    return false;
  }
}

type TlsPart = keyof TlsMaterial;

interface TlsFile {
  readonly part: TlsPart;
  readonly flag: string;
  readonly path: string;
}

function tlsFiles(args: GlobalArgs): TlsFile[] {
  const pick = (part: TlsPart, flag: 'ca-file' | 'cert-file' | 'key-file', deprecated: 'etcd-cafile' | 'etcd-certfile' | 'etcd-keyfile'): TlsFile[] => {
    if (args[flag] !== '' && args[flag] !== undefined) return [{ part, flag: `--${flag}`, path: args[flag] }];
    if (args[deprecated] !== '' && args[deprecated] !== undefined) return [{ part, flag: `--${deprecated}`, path: args[deprecated] }];
    return [];
  };
  const files = [...pick('ca', 'ca-file', 'etcd-cafile'), ...pick('cert', 'cert-file', 'etcd-certfile'), ...pick('key', 'key-file', 'etcd-keyfile')];
  const has = (part: TlsPart): boolean => files.some((f) => f.part === part);
  if (has('cert') !== has('key')) {
    throw new FleetError('INVALID_CONFIG', '--cert-file and --key-file go together: give both for a TLS client certificate, or neither');
  }
  return files;
}

async function readTls(files: readonly TlsFile[], readFile: ReadTextFile): Promise<TlsMaterial> {
  const tls: { -readonly [K in TlsPart]?: string } = {};
  for (const file of files) {
    let text: string | undefined;
    try {
      text = await readFile(file.path);
    } catch (err) {
      throw new FleetError('INVALID_CONFIG', `${file.flag}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    if (text === undefined) throw new FleetError('INVALID_CONFIG', `cannot read ${file.flag} ${file.path}: no such file`);
    tls[file.part] = text;
  }
  return tls;
}
