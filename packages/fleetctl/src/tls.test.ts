import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { makeHttpClient } from './api-client.js';
import { run } from './cli.js';
import { CapturedOutput, SteppingClock } from './testing/captured-output.js';
import { TestFleetApi } from './testing/test-fleet-api.js';
import { machineA } from './testing/harness.js';

// Test-only certificates: see testing/tls/README.md.
const tlsDir = fileURLToPath(new URL('./testing/tls/', import.meta.url));
const file = (name: string): string => `${tlsDir}${name}`;
const pem = (name: string): string => readFileSync(file(name), 'utf8');

let api: TestFleetApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

async function startApi(requestCert: boolean): Promise<TestFleetApi> {
  api = await TestFleetApi.startHttps({ key: pem('server-key.pem'), cert: pem('server.pem'), ca: pem('ca.pem'), requestCert });
  api.machines = [{ id: machineA, primaryIP: '10.10.1.1', metadata: {} }];
  return api;
}

async function fleetctl(args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = new CapturedOutput();
  const code = await run(args, { output, env, clock: new SteppingClock(), makeClient: makeHttpClient });
  return { code, stdout: output.stdout, stderr: output.stderr };
}

const listIps = ['list-machines', '--no-legend', '--fields', 'ip'];

describe('TLS to an https:// endpoint', () => {
  it('verifies the server with --ca-file and presents --cert-file/--key-file', async () => {
    const { endpoint } = await startApi(true);
    const r = await fleetctl(['--endpoint', endpoint, '--ca-file', file('ca.pem'), '--cert-file', file('client.pem'), '--key-file', file('client-key.pem'), ...listIps]);
    expect(r).toEqual({ code: 0, stdout: '10.10.1.1\n', stderr: '' });
    expect(api?.registryCalls).toBeGreaterThan(0);
  });

  it('takes the files from FLEETCTL_CA_FILE, FLEETCTL_CERT_FILE and FLEETCTL_KEY_FILE', async () => {
    const { endpoint } = await startApi(true);
    const r = await fleetctl(listIps, {
      FLEETCTL_ENDPOINT: endpoint,
      FLEETCTL_CA_FILE: file('ca.pem'),
      FLEETCTL_CERT_FILE: file('client.pem'),
      FLEETCTL_KEY_FILE: file('client-key.pem'),
    });
    expect(r).toEqual({ code: 0, stdout: '10.10.1.1\n', stderr: '' });
  });

  it("accepts fleet's deprecated --etcd-cafile, --etcd-certfile and --etcd-keyfile", async () => {
    const { endpoint } = await startApi(true);
    const r = await fleetctl([
      '--endpoint',
      endpoint,
      '--etcd-cafile',
      file('ca.pem'),
      '--etcd-certfile',
      file('client.pem'),
      '--etcd-keyfile',
      file('client-key.pem'),
      ...listIps,
    ]);
    expect(r).toEqual({ code: 0, stdout: '10.10.1.1\n', stderr: '' });
  });

  it('needs no client certificate when the server asks for none', async () => {
    const { endpoint } = await startApi(false);
    expect(await fleetctl(['--endpoint', endpoint, '--ca-file', file('ca.pem'), ...listIps])).toEqual({ code: 0, stdout: '10.10.1.1\n', stderr: '' });
  });

  it('refuses a server that the CAs do not vouch for (unlike fleet, which then skipped verification)', async () => {
    const { endpoint } = await startApi(false);
    const r = await fleetctl(['--endpoint', endpoint, ...listIps]);
    expect(r).toMatchObject({ code: 1, stdout: '' });
    // Node's wording depends on whether the server sends its CA along (ours does only when it
    // verifies clients, i.e. with api_ca_file).
    expect(r.stderr).toMatch(
      new RegExp(
        `^Error retrieving list of active machines from fleet API \\(Get "${endpoint}/fleet/v1/machines\\?alt=json": ` +
          '(self-signed certificate in certificate chain|unable to get local issuer certificate|unable to verify the first certificate)\\)\\nPossible issues:\\n',
      ),
    );
    expect(api?.registryCalls).toBe(0);
  });

  it('gets no answer without the client certificate the server requires', async () => {
    const { endpoint } = await startApi(true);
    const r = await fleetctl(['--endpoint', endpoint, '--ca-file', file('ca.pem'), ...listIps]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^Error retrieving list of active machines from fleet API \\(Get "${endpoint}/fleet/v1/machines\\?alt=json": .+\\)\\n`));
    expect(api?.registryCalls).toBe(0);
  });

  it.each([
    [['--cert-file', 'client.pem'], 'Unable to initialize client: --cert-file and --key-file go together: give both for a TLS client certificate, or neither\n'],
    [['--key-file', 'client-key.pem'], 'Unable to initialize client: --cert-file and --key-file go together: give both for a TLS client certificate, or neither\n'],
    [['--ca-file', 'nope.pem'], `Unable to initialize client: cannot read --ca-file ${file('nope.pem')}: no such file\n`],
  ])('refuses %j before any request', async (flags, stderr) => {
    const { endpoint } = await startApi(false);
    const args = flags.map((f, i) => (i % 2 === 1 ? file(f) : f));
    expect(await fleetctl(['--endpoint', endpoint, ...args, ...listIps])).toEqual({ code: 1, stdout: '', stderr });
    expect(api?.registryCalls).toBe(0);
  });
});
