import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LocalMachine } from '../../scripts/local-cluster/cluster.js';
import { fleetctl, fleetctlOk, fleetUnit, hostsOf, startTestCluster } from './support.js';

// A CA, one server certificate shared by every fleetd (they all listen on 127.0.0.1) and a client
// certificate for fleetctl, all made with openssl at test time.
let pki: string;
let cluster: Awaited<ReturnType<typeof startTestCluster>>;
let m1: LocalMachine;

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: pki, stdio: 'pipe' });
}

function makePki(): void {
  pki = mkdtempSync(join(tmpdir(), 'fleet-pki-'));
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=fleet test CA', '-keyout', 'ca.key', '-out', 'ca.crt');
  writeFileSync(join(pki, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
  for (const [name, ext] of [['server', ['-extfile', 'server.ext']], ['client', []]] as const) {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', `${name}.crt`, ...ext);
  }
}

beforeAll(async () => {
  makePki();
  cluster = await startTestCluster({
    machines: 2,
    metadata: ['rack=r1,host=m1', 'rack=r2,host=m2'],
    apiTls: { certFile: join(pki, 'server.crt'), keyFile: join(pki, 'server.key'), caFile: join(pki, 'ca.crt') },
  });
  m1 = cluster.machines[0]!;
});

afterAll(async () => {
  await cluster?.cleanup();
  if (pki !== undefined) rmSync(pki, { recursive: true, force: true });
});

const tlsFlags = () => ['--endpoint', m1.apiUrl, '--ca-file', join(pki, 'ca.crt'), '--cert-file', join(pki, 'client.crt'), '--key-file', join(pki, 'client.key')];

it('serves the API over mutual TLS: fleetctl with a signed client certificate gets through', async () => {
  expect(m1.apiUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  // fleetctl() passes the unix socket endpoint first; the later --endpoint wins, as in fleet.
  const result = await fleetctl(m1, ...tlsFlags(), 'list-machines', '--no-legend', '--full');
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(result.stdout.split('\n').filter((l) => l !== '')).toHaveLength(2);
});

it('refuses a client without a certificate', async () => {
  const result = await fleetctl(m1, '--endpoint', m1.apiUrl, '--ca-file', join(pki, 'ca.crt'), 'list-machines');
  expect(result.code).not.toBe(0);
  expect(result.stderr).toMatch(/^Error: /);
});

it('forwards status and journal between fleetds over mutual TLS', async () => {
  await fleetctlOk(m1, 'start', fleetUnit(cluster.dir, 'far.service', ['MachineMetadata=host=m2']));
  expect((await hostsOf(cluster, ['far.service'])).get('far.service')).toEqual(['m2']);
  const status = await fleetctl(m1, ...tlsFlags(), 'status', 'far.service');
  expect(status.code).toBe(0);
  expect(status.stdout).toContain('Active: active (running)');
  const journal = await fleetctl(m1, ...tlsFlags(), 'journal', '--lines', '5', 'far.service');
  expect(journal.code).toBe(0);
  expect(journal.stderr).toBe('');
});
