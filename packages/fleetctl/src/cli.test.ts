import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeHttpClient } from './api-client.js';
import { startHarness } from './testing/harness.js';
import type { Harness } from './testing/harness.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

describe('command line', () => {
  it.each([
    [['bogus'], 'Error: Unknown argument: bogus\n'],
    [['list-units', '--bogus'], 'Error: Unknown argument: bogus\n'],
    [['list-units', '--tunnel', 'host'], 'Error: Unknown argument: tunnel\n'],
    [[], 'Error: no command given (see fleetctl --help)\n'],
    [['start'], 'Error: Not enough non-option arguments: got 0, need at least 1\n'],
    [['cat', 'a', 'b'], 'Error: Unknown argument: b\n'],
    [['start', '--block-attempts', '-1', 'x'], 'Error: --block-attempts must be a whole number >= 0, got -1\n'],
    [['list-units', '--request-timeout', '0'], 'Error: --request-timeout must be a number of seconds > 0, got 0\n'],
    [['status', 'nope'], 'Error: unit nope.service does not exist\n'],
    [['status'], 'Error: Not enough non-option arguments: got 0, need at least 1\n'],
    [['status', '-o', 'yaml', 'x'], 'Error: Invalid values: Argument: output, Given: "yaml", Choices: "text", "json"\n'],
  ])('fleetctl %j fails with one line on stderr', async (args, stderr) => {
    const r = await h.fleetctl(args);
    expect(r).toMatchObject({ code: 1, stdout: '', stderr });
  });

  it.each([[['--version']], [['-v']], [['version']]])('%j prints the version', async (args) => {
    expect(await h.fleetctl(args)).toMatchObject({ code: 0, stdout: 'fleetctl version 0.1.0\n', stderr: '' });
  });

  it('prints help to stdout', async () => {
    const r = await h.fleetctl(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('fleetctl start <units..>');
    expect(r.stdout).toContain('--request-timeout');
  });

  it('prints the flags of a command with --help', async () => {
    const r = await h.fleetctl(['list-units', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--no-legend/);
    expect(r.stdout).toMatch(/-l, --full/);
  });
});

describe('global flags and the environment', () => {
  it('takes the endpoint from FLEETCTL_ENDPOINT', async () => {
    const r = await h.fleetctl(['list-machines', '--no-legend'], { FLEETCTL_ENDPOINT: h.api.endpoint });
    expect(r).toMatchObject({ code: 0, stdout: '595989bb...\t10.10.1.2\t-\nc31e44e1...\t10.10.1.1\tregion=us-west\n' });
  });

  it('passes --request-timeout (seconds) to the client in milliseconds, from flag or env', async () => {
    const seen: [string, number][] = [];
    const makeClient = (endpoint: string, timeoutMs: number) => {
      seen.push([endpoint, timeoutMs]);
      return makeHttpClient(endpoint, timeoutMs);
    };
    await h.fleetctl(['list-machines'], {}, { makeClient });
    await h.fleetctl(['list-machines', '--request-timeout', '0.5'], {}, { makeClient });
    await h.fleetctl(['list-machines'], { FLEETCTL_ENDPOINT: h.api.endpoint, FLEETCTL_REQUEST_TIMEOUT: '10' }, { makeClient });
    expect(seen).toEqual([
      [h.api.endpoint, 3000],
      [h.api.endpoint, 500],
      [h.api.endpoint, 10000],
    ]);
  });

  it('logs requests to stderr with --debug or FLEETCTL_DEBUG', async () => {
    const flag = await h.fleetctl(['list-machines', '--debug']);
    expect(flag.stderr).toBe('DEBUG: GET /fleet/v1/machines -> 200\n');
    const env = await h.fleetctl(['list-machines'], { FLEETCTL_ENDPOINT: h.api.endpoint, FLEETCTL_DEBUG: 'true' });
    expect(env.stderr).toBe('DEBUG: GET /fleet/v1/machines -> 200\n');
  });

  it('takes --no-block from FLEETCTL_NO_BLOCK', async () => {
    h.api.addUnit('hello.service', [{ section: 'Service', name: 'ExecStart', value: '/bin/true' }]);
    const r = await h.fleetctl(['start', 'hello'], { FLEETCTL_ENDPOINT: h.api.endpoint, FLEETCTL_NO_BLOCK: '1' });
    expect(r).toMatchObject({ code: 0, stdout: 'Triggered unit hello.service start\n' });
  });

  it('rejects a malformed environment value', async () => {
    const r = await h.fleetctl(['list-units'], { FLEETCTL_ENDPOINT: h.api.endpoint, FLEETCTL_REQUEST_TIMEOUT: 'soon' });
    expect(r).toMatchObject({ code: 1, stderr: 'Error: invalid number "soon" in FLEETCTL_REQUEST_TIMEOUT\n' });
  });

  it('rejects an endpoint it cannot use', async () => {
    const r = await h.fleetctl(['list-units', '--endpoint', 'ftp://host']);
    expect(r).toMatchObject({ code: 1, stderr: 'Error: invalid endpoint "ftp://host": unsupported scheme ftp:\n' });
  });
});
