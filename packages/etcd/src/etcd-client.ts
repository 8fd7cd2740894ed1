import { circuitBreaker, ConsecutiveBreaker, ExponentialBackoff, handleWhen } from 'cockatiel';
import { Etcd3, isRecoverableError, type IOptions } from 'etcd3';

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

/** Options of {@link connectEtcd}: fleet's `etcd_servers` and `etcd_request_timeout`. */
export interface EtcdConnectionOptions {
  readonly servers: readonly string[];
  readonly requestTimeoutMs: number;
}

type WatchBackoff = NonNullable<NonNullable<IOptions['faultHandling']>['watchBackoff']>;

/** How long a host's circuit stays open before one trial call: the bound on recovery after an outage. */
const halfOpenAfterMs = 1_000;
/** Longest wait between two attempts to re-establish a watch. */
const watchRetryMaxMs = 1_000;

/**
 * An etcd client for fleetd. etcd3's defaults keep a failed host's circuit open for 5 s and back
 * watches off up to 30 s, so after an outage the registry stays unreachable (503s, late wake-ups)
 * for seconds after etcd is back; here both are bounded by about a second. Calls still fail fast
 * while etcd is down (the circuit opens after 3 consecutive failures).
 */
export function connectEtcd(options: EtcdConnectionOptions): EtcdConnection {
  return new Etcd3({
    hosts: [...options.servers],
    dialTimeout: options.requestTimeoutMs,
    faultHandling: {
      host: () => circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: halfOpenAfterMs, breaker: new ConsecutiveBreaker(3) }),
      // etcd3 declares the backoff of an older cockatiel; it calls next() and duration, as this one has.
      watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: watchRetryMaxMs }) as unknown as WatchBackoff,
    },
  });
}
