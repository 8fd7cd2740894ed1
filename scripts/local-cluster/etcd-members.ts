import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { freeLoopbackPorts, isEtcdHealthy } from './etcd.js';
import { isAlive, pollUntil, startDetached, stopProcess, tail, type StartedProcess } from './processes.js';

/** PEM files made by {@link makeEtcdCertificates}: one CA, a server certificate for 127.0.0.1, a client certificate. */
export interface EtcdCertificates {
  readonly caFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
}

/** Options of {@link startEtcdMembers}. */
export interface EtcdMembersOptions {
  /** Folder of the members' data, logs and (with `tls`) certificates. */
  dir: string;
  /** How many members; default 3. */
  members?: number;
  /** Serve clients over HTTPS only and require a client certificate signed by the generated CA. */
  tls?: boolean;
  /** Create this user with the root role and enable etcd's authentication. */
  auth?: { username: string; password: string };
}

/** An etcd cluster of several members on loopback, each of which can be killed and started again. */
export interface EtcdMembers {
  /** Client URLs of every member, in order (fleet's `etcd_servers`). */
  readonly servers: readonly string[];
  readonly certificates: EtcdCertificates | undefined;
  /** fleet.conf lines that connect a fleetd to these members (servers, TLS files, credentials). */
  readonly fleetdConfig: readonly string[];
  /** PID of member `index` while it runs. */
  pid(index: number): number | undefined;
  /** Index of the member that raft elected leader, as the running members report it. */
  leader(): Promise<number>;
  /** Signals member `index` (default SIGKILL) and waits until it has exited. */
  kill(index: number, signal?: NodeJS.Signals): Promise<void>;
  /** Starts member `index` again on its URLs with its data; resolves once it is healthy. */
  restart(index: number): Promise<void>;
  /** Stops every member this started (their PIDs only). */
  stop(): Promise<void>;
}

const readyTimeoutMs = 30_000;

interface Member {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  readonly logFile: string;
  process: StartedProcess | undefined;
}

/**
 * Starts `members` etcd members forming one cluster (`--initial-cluster` names all of them), on
 * free loopback ports, and waits until each is healthy. With `tls` the test's own CA, server and
 * client certificates are generated (openssl) and clients must present one; with `auth` a user
 * with the root role is created and authentication enabled. Throws with the member's log tail.
 */
export async function startEtcdMembers(options: EtcdMembersOptions): Promise<EtcdMembers> {
  const count = options.members ?? 3;
  mkdirSync(options.dir, { recursive: true });
  const certificates = options.tls === true ? makeEtcdCertificates(join(options.dir, 'tls')) : undefined;
  const ports = await freeLoopbackPorts(2 * count);
  const scheme = certificates === undefined ? 'http' : 'https';
  const members: Member[] = Array.from({ length: count }, (_, i) => ({
    name: `m${i + 1}`,
    clientUrl: `${scheme}://127.0.0.1:${ports[2 * i]}`,
    peerUrl: `http://127.0.0.1:${ports[2 * i + 1]}`,
    dataDir: join(options.dir, `m${i + 1}`, 'data'),
    logFile: join(options.dir, `m${i + 1}.log`),
    process: undefined,
  }));
  const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
  const tlsArgs = certificates === undefined ? [] : [
    '--client-cert-auth', '--trusted-ca-file', certificates.caFile,
    '--cert-file', certificates.serverCertFile, '--key-file', certificates.serverKeyFile,
  ];
  const start = async (m: Member): Promise<void> => {
    mkdirSync(join(m.dataDir, '..'), { recursive: true });
    m.process = await startDetached(`etcd:${m.name}`, 'etcd', [
      '--name', m.name, '--data-dir', m.dataDir,
      '--listen-client-urls', m.clientUrl, '--advertise-client-urls', m.clientUrl,
      '--listen-peer-urls', m.peerUrl, '--initial-advertise-peer-urls', m.peerUrl,
      '--initial-cluster', initialCluster, '--initial-cluster-state', 'new', '--initial-cluster-token', `fleet-test-${ports[0]}`,
      '--logger', 'zap', '--log-outputs', 'stderr', ...tlsArgs,
    ], { logFile: m.logFile, env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ETCD'))) });
  };
  const healthy = async (m: Member): Promise<void> => {
    const pid = m.process?.pid ?? -1;
    await pollUntil(`etcd member ${m.name} healthy at ${m.clientUrl}`, async () => {
      if (!isAlive(pid)) throw new Error(`etcd member ${m.name} exited\n--- ${m.logFile} ---\n${tail(m.logFile)}`);
      return (await memberHealthy(m.clientUrl, certificates)) ? true : undefined;
    }, { timeoutMs: readyTimeoutMs, intervalMs: 200 });
  };
  const stopAll = async (): Promise<void> => {
    await Promise.all(members.map(async (m) => { if (m.process !== undefined) await stopProcess(m.process.pid, 5_000); }));
  };
  try {
    // Together: a member of a new cluster is healthy only once a quorum of its peers runs.
    await Promise.all(members.map(start));
    await Promise.all(members.map(healthy));
    if (options.auth !== undefined) await enableAuth(members[0]!.clientUrl, options.auth, certificates);
  } catch (err) {
    await stopAll();
    throw err;
  }
  const member = (index: number): Member => {
    const m = members[index];
    if (m === undefined) throw new Error(`no etcd member ${index} (there are ${members.length})`);
    return m;
  };
  return {
    servers: members.map((m) => m.clientUrl),
    certificates,
    fleetdConfig: [
      `etcd_servers=${members.map((m) => m.clientUrl).join(',')}`,
      ...(certificates === undefined ? [] : [`etcd_cafile=${certificates.caFile}`, `etcd_certfile=${certificates.clientCertFile}`, `etcd_keyfile=${certificates.clientKeyFile}`]),
      ...(options.auth === undefined ? [] : [`etcd_username=${options.auth.username}`, `etcd_password=${options.auth.password}`]),
    ],
    pid: (index) => { const p = member(index).process; return p !== undefined && isAlive(p.pid) ? p.pid : undefined; },
    leader: async () => {
      const statuses = await Promise.all(members.map((m) => memberStatus(m.clientUrl, certificates).catch(() => undefined)));
      const leaderId = statuses.find((s) => s !== undefined && s.leader !== '0')?.leader;
      const index = statuses.findIndex((s) => s !== undefined && s.memberId === leaderId);
      if (index < 0) throw new Error(`no etcd member reports itself leader (${JSON.stringify(statuses)})`);
      return index;
    },
    kill: async (index, signal = 'SIGKILL') => {
      const m = member(index);
      const pid = m.process?.pid;
      if (pid === undefined || !isAlive(pid)) throw new Error(`etcd member ${m.name} is not running`);
      process.kill(pid, signal);
      await pollUntil(`etcd member ${m.name} (PID ${pid}) gone`, () => (isAlive(pid) ? undefined : true), { timeoutMs: 10_000, intervalMs: 50 });
    },
    restart: async (index) => {
      const m = member(index);
      if (m.process !== undefined && isAlive(m.process.pid)) throw new Error(`etcd member ${m.name} still runs (PID ${m.process.pid})`);
      await start(m);
      await healthy(m);
    },
    stop: stopAll,
  };
}

/** `GET /health` of one member; over HTTPS it presents the client certificate. */
async function memberHealthy(clientUrl: string, certs: EtcdCertificates | undefined): Promise<boolean> {
  if (certs === undefined) return isEtcdHealthy(clientUrl);
  try {
    const { status, body } = await httpsJson(clientUrl, '/health', undefined, certs);
    return status === 200 && (JSON.parse(body) as { health?: unknown }).health === 'true';
  } catch {
    return false;
  }
}

/** Maintenance status through etcd's gRPC gateway: this member's ID and the leader's, as decimal strings. */
async function memberStatus(clientUrl: string, certs: EtcdCertificates | undefined): Promise<{ memberId: string; leader: string }> {
  const res = certs === undefined ? await plainJson(clientUrl, '/v3/maintenance/status', {}) : await httpsJson(clientUrl, '/v3/maintenance/status', {}, certs);
  if (res.status !== 200) throw new Error(`etcd ${clientUrl} status answered ${res.status}: ${res.body}`);
  const status = JSON.parse(res.body) as { header?: { member_id?: string }; leader?: string };
  return { memberId: status.header?.member_id ?? '', leader: status.leader ?? '0' };
}

/** Through etcd's gRPC gateway (no etcdctl here): the user, a root role granted to it, then auth on. */
async function enableAuth(clientUrl: string, auth: { username: string; password: string }, certs: EtcdCertificates | undefined): Promise<void> {
  // etcd enables authentication only once a `root` user exists.
  const users = auth.username === 'root' ? [auth] : [{ username: 'root', password: `${auth.password}-root` }, auth];
  const steps: Array<[string, unknown]> = [
    ['/v3/auth/role/add', { name: 'root' }],
    ...users.flatMap((u): Array<[string, unknown]> => [
      ['/v3/auth/user/add', { name: u.username, password: u.password }],
      ['/v3/auth/user/grant', { user: u.username, role: 'root' }],
    ]),
    ['/v3/auth/enable', {}],
  ];
  for (const [path, body] of steps) {
    const res = certs === undefined ? await plainJson(clientUrl, path, body) : await httpsJson(clientUrl, path, body, certs);
    if (res.status !== 200) throw new Error(`etcd ${path} answered ${res.status}: ${res.body}`);
  }
}

async function plainJson(clientUrl: string, path: string, body: unknown): Promise<{ status: number; body: string }> {
  const res = await fetch(`${clientUrl}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
  return { status: res.status, body: await res.text() };
}

function httpsJson(clientUrl: string, path: string, body: unknown, certs: EtcdCertificates): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${clientUrl}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      ca: readFileSync(certs.caFile), cert: readFileSync(certs.clientCertFile), key: readFileSync(certs.clientKeyFile),
      timeout: 2_000,
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${clientUrl}${path}`)));
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/**
 * Generates, with openssl, a CA, a server certificate for 127.0.0.1 (SAN IP) and a client
 * certificate (CN `fleet-client`, not an etcd user: access comes from the password), in `dir`.
 */
export function makeEtcdCertificates(dir: string): EtcdCertificates {
  mkdirSync(dir, { recursive: true });
  const f = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => { execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] }); };
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=fleet-test-ca', '-keyout', f('ca-key.pem'), '-out', f('ca.pem'));
  const sign = (name: string, cn: string, ext: string): void => {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', f(`${name}-key.pem`), '-out', f(`${name}.csr`));
    writeFileSync(f(`${name}.ext`), ext);
    openssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca-key.pem'), '-CAcreateserial', '-days', '2', '-extfile', f(`${name}.ext`), '-out', f(`${name}.pem`));
  };
  sign('server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
  sign('client', 'fleet-client', 'extendedKeyUsage=clientAuth\n');
  return { caFile: f('ca.pem'), serverCertFile: f('server.pem'), serverKeyFile: f('server-key.pem'), clientCertFile: f('client.pem'), clientKeyFile: f('client-key.pem') };
}
