import type { Argv, Options } from 'yargs';
import { envBoolean, envNumber, envString } from './env.js';
import type { Env } from './env.js';

/** fleet's default API endpoint: fleetd's socket-activated unix socket. */
export const defaultEndpoint = 'unix:///var/run/fleet.sock';

/** fleetctl's global flags after parsing (fleet's persistent flags, fleet:fleetctl/fleetctl.go). */
export interface GlobalArgs {
  endpoint: string;
  'request-timeout': number;
  debug: boolean;
  /** `API` is the only driver; `etcd` is refused when a command needs the API. */
  driver: string;
  /** Accepted and ignored: it only matters to fleet's etcd driver. */
  'etcd-key-prefix': string;
  'key-file': string;
  'cert-file': string;
  'ca-file': string;
  /** Refused when non-empty and a command needs the API. */
  tunnel: string;
  'known-hosts-file': string;
  'strict-host-key-checking': boolean;
  'ssh-timeout': number;
  'ssh-username': string;
  /** Deprecated in fleet; accepted and ignored. */
  'experimental-api': boolean;
  /** Deprecated spellings of `--key-file`, `--cert-file`, `--ca-file`; used when those are empty. */
  'etcd-keyfile': string;
  'etcd-certfile': string;
  'etcd-cafile': string;
}

type FlagName = keyof GlobalArgs & string;

/** One global flag: its type, fleet's default, and whether help shows it. */
type GlobalFlagSpec = {
  readonly name: FlagName;
  readonly describe: string;
  readonly hidden?: boolean;
} & (
  | { readonly type: 'string'; readonly fallback: string }
  | { readonly type: 'number'; readonly fallback: number }
  | { readonly type: 'boolean'; readonly fallback: boolean }
);

const unused = '(accepted for compatibility; unused: fleetctl does not use SSH)';

/** Every global flag, in the order help lists them. Defaults are fleet's. */
export const globalFlagSpecs: readonly GlobalFlagSpec[] = [
  { name: 'endpoint', type: 'string', fallback: defaultEndpoint, describe: 'Location of the fleet API: unix:///path/to/socket, http://host:port or https://host:port' },
  { name: 'request-timeout', type: 'number', fallback: 3, describe: 'Amount of time in seconds to allow a single request before considering it failed' },
  { name: 'debug', type: 'boolean', fallback: false, describe: 'Print every API request to stderr' },
  { name: 'driver', type: 'string', fallback: 'API', describe: 'Adapter used to execute fleetctl commands; only "API" (the fleet HTTP API) is supported, not "etcd"' },
  { name: 'etcd-key-prefix', type: 'string', fallback: '/_coreos.com/fleet/', describe: 'Keyspace for fleet data in etcd (ignored with --driver=API, as in fleet)' },
  { name: 'key-file', type: 'string', fallback: '', describe: 'TLS client key (PEM) for an https:// endpoint; needs --cert-file' },
  { name: 'cert-file', type: 'string', fallback: '', describe: 'TLS client certificate (PEM) for an https:// endpoint; needs --key-file' },
  { name: 'ca-file', type: 'string', fallback: '', describe: 'CA certificate(s) (PEM) that verify an https:// endpoint, instead of the system CAs' },
  { name: 'tunnel', type: 'string', fallback: '', describe: 'Not supported: forward the API with ssh -L yourself and point --endpoint at it' },
  { name: 'known-hosts-file', type: 'string', fallback: '~/.fleetctl/known_hosts', describe: `File used to store remote machine fingerprints ${unused}` },
  { name: 'strict-host-key-checking', type: 'boolean', fallback: true, describe: `Verify host keys presented by remote machines ${unused}` },
  { name: 'ssh-timeout', type: 'number', fallback: 10, describe: `Seconds to allow for SSH connection initialization ${unused}` },
  { name: 'ssh-username', type: 'string', fallback: 'core', describe: `Username to use when connecting to CoreOS instances ${unused}` },
  { name: 'experimental-api', type: 'boolean', fallback: true, describe: 'DEPRECATED: do not use this flag', hidden: true },
  { name: 'etcd-keyfile', type: 'string', fallback: '', describe: 'DEPRECATED: use --key-file', hidden: true },
  { name: 'etcd-certfile', type: 'string', fallback: '', describe: 'DEPRECATED: use --cert-file', hidden: true },
  { name: 'etcd-cafile', type: 'string', fallback: '', describe: 'DEPRECATED: use --ca-file', hidden: true },
];

/** The heading global flags are listed under in help, as cobra does. */
export const globalFlagsGroup = 'Global Flags:';

/**
 * Adds every global flag to `y` (global: valid before or after the command), each defaulting to
 * `FLEETCTL_<FLAG>` and then to fleet's default. A repeated flag takes its last value, as with
 * pflag. Throws a `FleetError` (`INVALID_CONFIG`) for a malformed boolean or number variable.
 */
export function withGlobalFlags<T>(y: Argv<T>, env: Env): Argv<T & GlobalArgs> {
  let out: Argv<unknown> = y;
  for (const spec of globalFlagSpecs) {
    out = out.option(spec.name, {
      type: spec.type,
      global: true,
      hidden: spec.hidden === true,
      ...flagValue(spec, env),
      describe: spec.describe,
    });
  }
  const shown = globalFlagSpecs.filter((s) => s.hidden !== true).map((s) => s.name);
  return out.group(shown, globalFlagsGroup) as Argv<T & GlobalArgs>;
}

/** A flag's default (`FLEETCTL_<FLAG>`, else fleet's) and, for scalars, the last-value-wins coercion. */
function flagValue(spec: GlobalFlagSpec, env: Env): Pick<Options, 'default' | 'coerce'> {
  switch (spec.type) {
    case 'string':
      return { coerce: lastString, default: envString(env, spec.name, spec.fallback) };
    case 'number':
      return { coerce: lastNumber, default: envNumber(env, spec.name, spec.fallback) };
    case 'boolean':
      return { default: envBoolean(env, spec.name, spec.fallback) };
  }
}

/** A repeated scalar flag takes its last value, as in fleet (pflag). yargs would make it an array. */
export function lastString(value: string | string[]): string {
  return Array.isArray(value) ? (value[value.length - 1] ?? '') : value;
}

/** {@link lastString} for numeric flags. */
export function lastNumber(value: number | number[]): number {
  return Array.isArray(value) ? (value[value.length - 1] ?? Number.NaN) : value;
}
