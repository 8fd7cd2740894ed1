import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fleetctl, fleetctlOk, fleetUnit, hostsOf, useTestCluster } from './support.js';

// A CA, one server certificate shared by every fleetd (they all listen on 127.0.0.1) and a client
// certificate for fleetctl, all made with openssl at test time, before the cluster starts.
const pki = mkdtempSync(join(tmpdir(), 'fleet-pki-'));

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: pki, stdio: 'pipe' });
}

beforeAll(() => {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=fleet test CA', '-keyout', 'ca.key', '-out', 'ca.crt');
  writeFileSync(join(pki, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
  for (const [name, ext] of [['server', ['-extfile', 'server.ext']], ['client', []]] as const) {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', `${name}.crt`, ...ext);
  }
});

afterAll(() => {
  rmSync(pki, { recursive: true, force: true });
});

// Registered after the PKI's beforeAll, so it starts once the certificates exist.
const cluster = useTestCluster({
  machines: 2,
  metadata: ['rack=r1,host=m1', 'rack=r2,host=m2'],
  apiTls: { certFile: join(pki, 'server.crt'), keyFile: join(pki, 'server.key'), caFile: join(pki, 'ca.crt') },
});

const tlsFlags = () => ['--endpoint', cluster.m1.apiUrl, '--ca-file', join(pki, 'ca.crt'), '--cert-file', join(pki, 'client.crt'), '--key-file', join(pki, 'client.key')];

it('serves the API over mutual TLS: fleetctl with a signed client certificate gets through', async () => {
  expect(cluster.m1.apiUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  // fleetctl() passes the unix socket endpoint first; the later --endpoint wins, as in fleet.
  const result = await fleetctl(cluster.m1, ...tlsFlags(), 'list-machines', '--no-legend', '--full');
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(result.stdout.split('\n').filter((l) => l !== '')).toHaveLength(2);
});

it('refuses a client without a certificate', async () => {
  const result = await fleetctl(cluster.m1, '--endpoint', cluster.m1.apiUrl, '--ca-file', join(pki, 'ca.crt'), 'list-machines');
  expect(result.code).not.toBe(0);
  expect(result.stderr).toMatch(/^Error retrieving list of active machines from fleet API \(Get "https:/);
});

it('forwards status and journal between fleetds over mutual TLS', async () => {
  await fleetctlOk(cluster.m1, 'start', fleetUnit(cluster.dir, 'far.service', ['MachineMetadata=host=m2']));
  expect((await hostsOf(cluster, ['far.service'])).get('far.service')).toEqual(['m2']);
  const status = await fleetctl(cluster.m1, ...tlsFlags(), 'status', 'far.service');
  expect(status.code).toBe(0);
  expect(status.stdout).toContain('Active: active (running)');
  const journal = await fleetctl(cluster.m1, ...tlsFlags(), 'journal', '--lines', '5', 'far.service');
  expect(journal.code).toBe(0);
  expect(journal.stderr).toBe('');
});
