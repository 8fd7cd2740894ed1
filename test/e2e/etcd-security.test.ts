import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startEtcdMembers, type EtcdMembers } from '../../scripts/local-cluster/etcd-members.js';
import { repoRoot } from '../../scripts/local-cluster/cluster.js';
import { fleetctlOk, fleetUnit, pollUntil, systemdState, useTestCluster } from './support.js';

// One etcd member that requires a client certificate (the test's own CA, made with openssl) and
// a password (etcd's authentication on): the fleetds get both through fleet's config keys.
const dir = mkdtempSync('/tmp/fl-etcd-sec-');
const auth = { username: 'fleet', password: 'fleet-s3cret' };
let etcd: EtcdMembers | undefined;
const started = (): EtcdMembers => {
  if (etcd === undefined) throw new Error('etcd not started');
  return etcd;
};

beforeAll(async () => {
  etcd = await startEtcdMembers({ dir, members: 1, tls: true, auth });
});

afterAll(async () => {
  await etcd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

// Registered after etcd's beforeAll, so it reads the member's URL and files once they exist.
const cluster = useTestCluster(() => ({ machines: 1, fleetdEtcd: started().fleetdConfig }));

it('connects fleetd to an etcd that requires client certificates and a password: a unit starts and runs', async () => {
  expect(started().servers[0]).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  await fleetctlOk(cluster.m1, 'start', fleetUnit(cluster.dir, 'secure.service'));
  await pollUntil('secure.service active', async () => ((await systemdState(cluster.m1, 'secure.service')).active === 'active' ? true : undefined), { timeoutMs: 20_000 });
});

/** Runs a second fleetd with m1's config but `change` applied; resolves with its exit code and output. */
function lastLine(output: string): string {
  return output.trim().split('\n').at(-1) ?? '';
}

function fleetdWith(change: (lines: string[]) => string[]): Promise<{ code: number | null; output: string }> {
  const lines = readFileSync(cluster.m1.configFile, 'utf8').split('\n').filter((l) => l !== '');
  const other = change(lines.map((l) => (l.startsWith('api_socket=') ? `api_socket=${join(dir, 'other.sock')}` : l)).filter((l) => !l.startsWith('api_listen=') && !l.startsWith('machine_id=')));
  const configFile = join(dir, 'other.conf');
  writeFileSync(configFile, `${[...other, 'machine_id=0123456789abcdef0123456789abcdef'].join('\n')}\n`);
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [join(repoRoot, 'packages/fleetd/dist/bin/fleetd.js'), '--config', configFile], { timeout: 8_000 }, (err, stdout, stderr) => {
      resolve({ code: child.exitCode, output: `${stdout}${stderr}` });
    });
  });
}

it('a fleetd with a wrong etcd password exits non-zero saying etcd refused the credentials', async () => {
  const result = await fleetdWith((lines) => lines.map((l) => (l.startsWith('etcd_password=') ? 'etcd_password=wrong' : l)));
  console.log(`[etcd-security] wrong password: exit ${result.code}: ${lastLine(result.output)}`);
  expect(result.code).toBe(1);
  expect(result.output).toMatch(/fleetd: cannot start: etcd \(https:\/\/127\.0\.0\.1:\d+\) refused fleetd as etcd_username=fleet: .*authentication failed, invalid user ID or password/);
});

it('a fleetd without a client certificate exits non-zero saying the TLS handshake failed', async () => {
  const result = await fleetdWith((lines) => lines.filter((l) => !l.startsWith('etcd_certfile=') && !l.startsWith('etcd_keyfile=')));
  console.log(`[etcd-security] no client certificate: exit ${result.code}: ${lastLine(result.output)}`);
  expect(result.code).toBe(1);
  expect(lastLine(result.output)).toMatch(/^fleetd: cannot start: etcd \(https:\/\/127\.0\.0\.1:\d+\) refused fleetd as etcd_username=fleet: TLS handshake with https:\/\/127\.0\.0\.1:\d+ failed: the member answered "bad certificate" \(does it require a client certificate\? check etcd_certfile and etcd_keyfile\)$/);
});
