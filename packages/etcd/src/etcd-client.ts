import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { circuitBreaker, ConsecutiveBreaker, handleWhen } from 'cockatiel';
import { backoffDelay, RegistryUnavailableError, type BackoffPolicy } from '@fleet/core';
import { Etcd3, EtcdAuthenticationFailedError, EtcdPermissionDeniedError, GRPCDeadlineExceededError, GRPCUnauthenticatedError, isRecoverableError, type IOptions } from 'etcd3';

/**
 * An open connection to etcd, opaque outside this package (etcd3's client type stays here). The
 * registry, presence and leadership of one fleetd share one; {@link close} ends its calls and watches.
 */
export interface EtcdConnection {
  close(): void;
}

/** The etcd3 client behind a connection (this package's own use). */
export function etcdClient(connection: EtcdConnection): Etcd3 {
  return connection as Etcd3;
}

/**
 * Options of {@link connectEtcd}: fleet's `etcd_servers`, `etcd_request_timeout`, the TLS files
 * (`etcd_cafile`, `etcd_certfile`, `etcd_keyfile`) and etcd's own credentials (`etcd_username`,
 * `etcd_password`).
 */
export interface EtcdConnectionOptions {
  readonly servers: readonly string[];
  readonly requestTimeoutMs: number;
  /** PEM files, read once at connect. Without `caFile` the members are verified against the system's roots. */
  readonly tls?: { readonly caFile?: string | undefined; readonly certFile?: string | undefined; readonly keyFile?: string | undefined } | undefined;
  /** etcd's authentication; etcd3 exchanges them for a token and fetches a new one when etcd says the token expired. */
  readonly auth?: { readonly username: string; readonly password: string } | undefined;
}

type WatchBackoff = NonNullable<NonNullable<IOptions['faultHandling']>['watchBackoff']>;

/** How long a host's circuit stays open before one trial call: the bound on recovery after an outage. */
const halfOpenAfterMs = 1_000;
/**
 * Waits between two attempts to re-establish a watch: from 100 ms, doubling, at most a second; half
 * of each is random (cockatiel's decorrelated jitter did the same job) so that the watches of many
 * fleetds do not reconnect in step.
 */
const watchRetry: BackoffPolicy = { initialMs: 100, maxMs: 1_000, jitter: 0.5 };

/**
 * {@link watchRetry} in the shape etcd3 asks for (cockatiel's `IBackoff`): it reads `duration` of
 * `next()` before each reconnection and starts again from the factory after a success.
 */
export function watchBackoff(policy: BackoffPolicy, attempt = -1): WatchBackoff {
  return { duration: attempt < 0 ? 0 : backoffDelay(attempt, policy), next: () => watchBackoff(policy, attempt + 1) };
}

/**
 * An etcd client for fleetd. etcd3's defaults keep a failed host's circuit open for 5 s and back
 * watches off up to 30 s, so after an outage the registry stays unreachable (503s, late wake-ups)
 * for seconds after etcd is back; here both are bounded by about a second. Calls still fail fast
 * while etcd is down (the circuit opens after 3 consecutive failures).
 *
 * Every call that is not a stream has fleet's `etcd_request_timeout` as its deadline. Without one,
 * a request whose member loses its raft leader waits for etcd's own request timeout (7 s with
 * etcd's default timings) while a new leader is elected in about one; with it, etcd3 gives up and
 * tries the call on another member (a deadline counts as recoverable). A write retried after it
 * had landed does not apply twice: fleetd's writes are compare-and-set transactions (the retry
 * fails its comparison) or idempotent puts and deletes (a retried delete finds nothing left).
 */
export function connectEtcd(options: EtcdConnectionOptions): EtcdConnection {
  return new Etcd3({
    hosts: [...options.servers],
    dialTimeout: options.requestTimeoutMs,
    defaultCallOptions: (call) => (call.isStream ? {} : { deadline: Date.now() + options.requestTimeoutMs }),
    ...(options.tls === undefined ? {} : { credentials: credentialsOf(options.tls) }),
    ...(options.auth === undefined ? {} : { auth: { username: options.auth.username, password: options.auth.password } }),
    faultHandling: {
      // A deadline does not open a host's circuit: a frozen etcd (SIGSTOP, a stalled disk) answers
      // at once when it resumes, and an open circuit would refuse calls for up to a second more.
      host: () => circuitBreaker(handleWhen((err) => isRecoverableError(err) && !(err instanceof GRPCDeadlineExceededError)), { halfOpenAfter: halfOpenAfterMs, breaker: new ConsecutiveBreaker(3) }),
      watchBackoff: watchBackoff(watchRetry),
    },
  });
}

/** Whether etcd accepts this connection's credentials: refused only when etcd answered and said no. */
export type EtcdAccess = { readonly refused: false } | { readonly refused: true; readonly reason: string };

/**
 * One read of `key` to learn, at start, whether etcd refuses this fleetd: a wrong `etcd_password`
 * or a user without access to the key prefix, or (over https) a TLS handshake that a member
 * answers and fails (no or a wrong client certificate, a server certificate the CA does not sign).
 * An etcd that does not answer within `timeoutMs` is not a refusal: fleetd runs and waits for it
 * as through any outage.
 */
export async function checkEtcdAccess(connection: EtcdConnection, options: EtcdConnectionOptions, key: string): Promise<EtcdAccess> {
  const timeoutMs = 2 * options.requestTimeoutMs;
  let timer: NodeJS.Timeout | undefined;
  const read = etcdClient(connection).get(key).exec().then(
    (): EtcdAccess => ({ refused: false }),
    async (err: unknown): Promise<EtcdAccess> => {
      const refusal = err instanceof EtcdAuthenticationFailedError || err instanceof EtcdPermissionDeniedError || err instanceof GRPCUnauthenticatedError;
      if (refusal) return { refused: true, reason: (err as Error).message };
      // gRPC reports a failed handshake as "No connection established": ask TLS itself why.
      const https = options.servers.find((s) => s.startsWith('https:'));
      const why = https === undefined ? undefined : await tlsHandshakeProblem(https, options.tls, timeoutMs);
      return why === undefined ? { refused: false } : { refused: true, reason: `TLS handshake with ${https} failed: ${why}` };
    },
  );
  const late = new Promise<EtcdAccess>((resolve) => {
    timer = setTimeout(() => resolve({ refused: false }), 2 * timeoutMs);
  });
  try {
    return await Promise.race([read, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The contents of `file`, or undefined when no file is named (an unset TLS option). */
function readIfNamed(file: string | undefined): Buffer | undefined {
  return file === undefined ? undefined : readFileSync(file);
}

/** Why a TLS connection to `server` with these files fails, if it does; undefined when it holds (or nobody answers). */
function tlsHandshakeProblem(server: string, tls: EtcdConnectionOptions['tls'], timeoutMs: number): Promise<string | undefined> {
  const url = new URL(server);
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host: url.hostname,
      port: Number(url.port || 2379),
      ...(isIP(url.hostname) === 0 ? { servername: url.hostname } : {}),
      ALPNProtocols: ['h2'],
      ...(tls?.caFile === undefined ? {} : { ca: readIfNamed(tls.caFile) }),
      ...(tls?.certFile === undefined ? {} : { cert: readIfNamed(tls.certFile) }),
      ...(tls?.keyFile === undefined ? {} : { key: readIfNamed(tls.keyFile) }),
    });
    const done = (problem: string | undefined): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(problem);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED' ? undefined : tlsReason(err.message)));
    // In TLS 1.3 a member that refuses the client certificate says so in an alert after the handshake.
    socket.once('secureConnect', () => setTimeout(() => done(undefined), 300).unref());
  });
}

/** OpenSSL's "...:sslv3 alert bad certificate:..." as what it means for the user. */
function tlsReason(message: string): string {
  const alert = /alert ([a-z ]+?)(?::|$)/.exec(message)?.[1];
  return alert === undefined ? message : `the member answered "${alert}" (does it require a client certificate? check etcd_certfile and etcd_keyfile)`;
}

function credentialsOf(tls: NonNullable<EtcdConnectionOptions['tls']>): NonNullable<IOptions['credentials']> {
  const privateKey = readIfNamed(tls.keyFile);
  const certChain = readIfNamed(tls.certFile);
  return {
    // etcd3 passes this to gRPC's createSsl, which takes null for "the system's roots"; etcd3's type says Buffer.
    rootCertificate: readIfNamed(tls.caFile) ?? (null as unknown as Buffer),
    ...(privateKey === undefined ? {} : { privateKey }),
    ...(certChain === undefined ? {} : { certChain }),
  };
}

/**
 * The revision of the last write that changed a key, per connection and key prefix: every writer
 * of a fleetd (registry, presence) records its writes here, and the cluster cache of the same
 * connection and prefix waits for them before it answers a read (read-your-own-writes).
 */
const lastWrites = new WeakMap<object, Map<string, bigint>>();

export function noteWrite(client: Etcd3, prefix: string, revision: string): void {
  const byPrefix = lastWrites.get(client) ?? new Map<string, bigint>();
  lastWrites.set(client, byPrefix);
  const r = BigInt(revision);
  if (r > (byPrefix.get(prefix) ?? 0n)) byPrefix.set(prefix, r);
}

export function lastWriteRevision(client: Etcd3, prefix: string): bigint {
  return lastWrites.get(client)?.get(prefix) ?? 0n;
}

/** `fn`'s result; any failure of it becomes a `RegistryUnavailableError` of `operation` (etcd unreachable or refusing). */
export async function etcdCall<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new RegistryUnavailableError(operation, { cause: err });
  }
}

/** `items` in consecutive slices of at most `size` (etcd caps the operations of one transaction). */
export function chunksOf<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}
