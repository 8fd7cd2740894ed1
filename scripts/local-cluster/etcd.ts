import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { httpRequest } from './http.js';
import { isAlive, pollUntil, startDetached, stopProcess, tail, type StartedProcess } from './processes.js';

/** A one-member etcd started by {@link startEtcd}. */
export interface RunningEtcd {
  readonly process: StartedProcess;
  /** `http://127.0.0.1:PORT`, the only client URL the member listens on. */
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  /** Stops exactly this member's PID (SIGTERM, then SIGKILL after 10 s). Idempotent. */
  stop(): Promise<void>;
}

const etcdBinary = 'etcd';
const readyTimeoutMs = 20_000;
// Ports come from the OS (listen on 0, then close), so another process may grab one before etcd
// binds it. A few fresh attempts make that race harmless.
const portAttempts = 3;

/** Options of {@link startEtcd}. */
export interface EtcdOptions {
  /** The member's folder; its data lives in `<dir>/data`. */
  dir: string;
  logFile: string;
  /** Member name. Default `local`. */
  name?: string;
  /** Also serve etcd's v2 API (`--enable-v2`), which the original fleetd speaks. Default false. */
  enableV2?: boolean;
  /** Listen on these loopback ports (a member started again keeps its URLs); default: free ones. */
  ports?: { client: number; peer: number };
}

/**
 * Starts a one-member etcd on loopback ports (free ones unless `ports` says which) with its data
 * under `<dir>/data` (kept if it exists; callers that want a fresh store remove it first). Resolves
 * once `GET <clientUrl>/health` reports healthy. Throws, with the tail of `logFile`, if etcd exits
 * or is not healthy within 20 s; nothing is left running then.
 */
export async function startEtcd(options: EtcdOptions): Promise<RunningEtcd> {
  const name = options.name ?? 'local';
  const dataDir = join(options.dir, 'data');
  mkdirSync(options.dir, { recursive: true });
  let lastError: Error | undefined;
  // Given ports are not ours to change: a port in use is an error, not a reason to try others.
  const attempts = options.ports === undefined ? portAttempts : 1;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const [clientPort, peerPort] = options.ports === undefined ? await freeLoopbackPorts(2) : [options.ports.client, options.ports.peer];
    if (clientPort === undefined || peerPort === undefined) throw new Error('the OS gave fewer free ports than asked for');
    const clientUrl = `http://127.0.0.1:${clientPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    const started = await startDetached(
      `etcd:${name}`,
      etcdBinary,
      [
        '--name', name,
        '--data-dir', dataDir,
        '--listen-client-urls', clientUrl,
        '--advertise-client-urls', clientUrl,
        '--listen-peer-urls', peerUrl,
        '--initial-advertise-peer-urls', peerUrl,
        '--initial-cluster', `${name}=${peerUrl}`,
        '--logger', 'zap',
        '--log-outputs', 'stderr',
        ...(options.enableV2 === true ? ['--enable-v2=true'] : []),
      ],
      // A developer's ETCD_* variables would override these flags (etcd reads both and refuses conflicts).
      { logFile: options.logFile, env: withoutEtcdVariables(process.env) },
    );
    const outcome = await pollUntil(
      `etcd health at ${clientUrl}/health`,
      async () => (!isAlive(started.pid) ? 'exited' : (await isEtcdHealthy(clientUrl)) ? 'healthy' : undefined),
      { timeoutMs: readyTimeoutMs, intervalMs: 100 },
    ).catch(async (err: unknown) => {
      await stopProcess(started.pid, 2_000);
      throw new Error(`etcd did not become healthy: ${(err as Error).message}\n--- ${options.logFile} ---\n${tail(options.logFile)}`, { cause: err });
    });
    if (outcome === 'healthy') {
      const stop = async (): Promise<void> => {
        await stopProcess(started.pid, 10_000);
      };
      return { process: started, clientUrl, peerUrl, dataDir, stop };
    }
    const log = tail(options.logFile);
    lastError = new Error(`etcd exited during startup (attempt ${attempt}, ports ${clientPort}/${peerPort})\n--- ${options.logFile} ---\n${log}`);
    if (!/address already in use/.test(log)) break;
  }
  throw lastError ?? new Error('etcd did not start');
}

/** True when `GET <clientUrl>/health` answers `{"health":"true"}` within a second. */
export async function isEtcdHealthy(clientUrl: string): Promise<boolean> {
  try {
    const res = await httpRequest({ url: `${clientUrl}/health` }, { timeoutMs: 1_000 });
    return res.status === 200 && (JSON.parse(res.body) as { health?: unknown }).health === 'true';
  } catch {
    return false;
  }
}

/**
 * Asks the OS for `count` distinct free TCP ports on 127.0.0.1 (listen on port 0, read the port,
 * close). All listeners stay open until every port is known, so the ports are distinct.
 */
export async function freeLoopbackPorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<Server>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(server));
    })),
  );
  const ports = servers.map((s) => {
    const address = s.address();
    if (address === null || typeof address === 'string') throw new Error('cannot read the port of a loopback listener');
    return address.port;
  });
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

function withoutEtcdVariables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([key]) => !key.startsWith('ETCD')));
}
