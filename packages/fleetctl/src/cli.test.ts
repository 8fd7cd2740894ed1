import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeHttpClient } from './api-client.js';
import type { ClientConfig } from './api-client.js';
import { buildCli } from './cli.js';
import { globalFlagSpecs } from './global-flags.js';
import { CapturedOutput, SteppingClock } from './testing/captured-output.js';
import { startHarness } from './testing/harness.js';
import type { Harness } from './testing/harness.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

/** What fleet's fleetctl (cobra) prints on stderr for a command line it refuses. */
function cobraError(message: string, kind: 'command' | 'flag'): string {
  const hint = kind === 'command' ? "Run 'fleetctl --help' for usage.\n" : '\n';
  return `Error: ${message}\n${hint}cannot execute cmdFleet: ${message}\n`;
}

describe('a wrong command line', () => {
  it.each([
    [['bogus'], cobraError('unknown command "bogus" for "fleetctl"', 'command')],
    [['lsit-units'], cobraError('unknown command "lsit-units" for "fleetctl"\n\nDid you mean this?\n\tlist-units\n', 'command')],
    [['st', 'hello'], cobraError('unknown command "st" for "fleetctl"\n\nDid you mean this?\n\tcat\n\tssh\n\tstart\n\tstatus\n\tstop\n', 'command')],
    [['list-unit'], cobraError('unknown command "list-unit" for "fleetctl"\n\nDid you mean this?\n\tlist-unit-files\n\tlist-units\n', 'command')],
    [['list-units', '--bogus'], cobraError('unknown flag: --bogus', 'flag')],
    [['start', '--bogus', 'x'], cobraError('unknown flag: --bogus', 'flag')],
    [['list-units', '-lq'], cobraError("unknown shorthand flag: 'q' in -lq", 'flag')],
    [['--bogus', 'list-units', '-x'], cobraError('unknown flag: --bogus', 'flag')],
    [['list-units', '--fields'], cobraError('flag needs an argument: --fields', 'flag')],
    [['stop', '--block-attempts', 'many', 'x'], cobraError('invalid argument "many" for --block-attempts: strconv.ParseInt: parsing "many": invalid syntax', 'flag')],
    [['list-units', '--full=maybe'], cobraError('invalid argument "maybe" for --full=maybe: strconv.ParseBool: parsing "maybe": invalid syntax', 'flag')],
    [['journal', '--bogus', 'a'], cobraError('unknown flag: --bogus', 'flag')],
    // fleet exits 0 after these, and prints the command's usage on stdout; this fleetctl exits 1.
  ])('fleetctl %j: cobra\'s lines on stderr, exit 1, no API call', async (args, stderr) => {
    const r = await h.fleetctl(args);
    expect(r).toMatchObject({ code: 1, stdout: '', stderr });
    expect(h.api.requests).toEqual([]);
  });

  it.each([
    [['status', '-o', 'yaml', 'x'], 'Error: Invalid values: Argument: output, Given: "yaml", Choices: "text", "json"\n'],
    [['fd-forward', '/x.sock'], 'Error: "fd-forward" is not supported: it only serves --tunnel, which is not supported\n'],
    [['ssh', 'hello'], 'Error: "ssh" is not supported: fleetctl does not use SSH; ssh to the machine that list-units shows instead\n'],
  ])('fleetctl %j (what only this fleetctl refuses): one error line and the help hint, exit 1', async (args, error) => {
    const r = await h.fleetctl(args);
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: `${error}Run 'fleetctl help' for usage.\n` });
    expect(h.api.requests).toEqual([]);
  });

  it.each([
    [['cat'], 1, 'One unit file must be provided\n'],
    [['cat', 'a', 'b'], 1, 'One unit file must be provided\n'],
    [['journal'], 1, 'One unit file must be provided.\n'],
    [['journal', 'a', 'b'], 1, 'One unit file must be provided.\n'],
    [['start'], 0, 'No units given\n'],
    [['status'], 0, ''],
  ])("fleetctl %j: fleet's answer to a wrong number of units", async (args, code, stderr) => {
    expect(await h.fleetctl(args)).toMatchObject({ code, stdout: '', stderr });
    expect(h.api.requests).toEqual([]);
  });

  it('ignores extra arguments where fleet does', async () => {
    expect(await h.fleetctl(['list-machines', 'a', 'b', '--fields', 'ip', '--no-legend'])).toMatchObject({ code: 0, stdout: '10.10.1.2\n10.10.1.1\n' });
    expect(await h.fleetctl(['version', 'x'])).toMatchObject({ code: 0, stdout: 'fleetctl version 0.1.0\n' });
  });

  it("answers an unknown help topic with fleet's notice (no line break, except on a terminal) and the help", async () => {
    const r = await h.fleetctl(['help', 'bogus']);
    expect(r).toMatchObject({ code: 0, stderr: 'Unknown help topic [`bogus`].' });
    expect(r.stdout).toContain('Commands:');
    expect((await h.fleetctl(['help', 'bogus'], {}, { interactive: true })).stderr).toBe('Unknown help topic [`bogus`].\n');
  });

  it('prints what a command that ran says, as fleet words it', async () => {
    const r = await h.fleetctl(['status', 'nope']);
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: 'Unit nope.service does not exist.\n' });
  });
});

describe('commands abbreviated to a unique prefix (cobra.EnablePrefixMatching)', () => {
  it.each([
    [['list-m', '--no-legend'], '595989bb...\t10.10.1.2\t-\nc31e44e1...\t10.10.1.1\tregion=us-west\n'],
    [['list-ma', '--no-legend', '--fields', 'ip'], '10.10.1.2\n10.10.1.1\n'],
    [['--endpoint', 'ignored-below', 'list-m', '--no-legend', '--fields', 'ip'], '10.10.1.2\n10.10.1.1\n'],
    [['vers'], 'fleetctl version 0.1.0\n'],
  ])('fleetctl %j', async (args, stdout) => {
    // A placeholder for the test API's endpoint, unknown when the table is built.
    const fixed = args.map((a) => (a === 'ignored-below' ? h.api.endpoint : a));
    expect(await h.fleetctl(fixed)).toMatchObject({ code: 0, stdout, stderr: '' });
  });

  it('runs an abbreviated unit command with its flags', async () => {
    h.api.addUnit('hello.service', [{ section: 'Service', name: 'ExecStart', value: '/bin/true' }]);
    const r = await h.fleetctl(['star', '--no-block', 'hello']);
    expect(r).toMatchObject({ code: 0, stdout: 'Triggered unit hello.service start\n'.repeat(2), stderr: '' });
  });

  it('treats the command word after "--" as an argument', async () => {
    const r = await h.fleetctl(['--', 'list-machines']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Commands:');
  });
});

describe('help and version', () => {
  // The harness puts --endpoint first unless FLEETCTL_ENDPOINT is set: fleet only takes
  // --version and -v as the very first argument.
  it.each([[['--version']], [['-v']], [['version']], [['-v', 'list-units']], [['--driver=etcd', '--tunnel=host', 'version']]])('%j prints the version', async (args) => {
    const r = await h.fleetctl(args, { FLEETCTL_ENDPOINT: h.api.endpoint });
    expect(r).toMatchObject({ code: 0, stdout: 'fleetctl version 0.1.0\n', stderr: '' });
  });

  it('takes a later --version as a flag that does nothing, as fleet does', async () => {
    expect(await h.fleetctl(['list-machines', '--version', '--fields', 'ip', '--no-legend'])).toMatchObject({ code: 0, stdout: '10.10.1.2\n10.10.1.1\n' });
    const help = await h.fleetctl(['--version']);
    expect(help.stdout).toContain('Commands:');
  });

  it.each([[[]], [['--help']], [['-h']], [['help']], [['--debug']]])('%j prints the global help to stdout', async (args) => {
    const r = await h.fleetctl(args);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toContain('fleetctl restart [units..]');
    // fleet's command list, the SSH-only ones included (refused when run).
    expect(r.stdout).toContain('fleetctl ssh');
    expect(r.stdout).toContain('fleetctl fd-forward');
    expect(r.stdout).toContain('fleetctl help [command]');
    // fleet's help names the version in a section of its own, right under the usage line.
    expect(r.stdout).toMatch(/^fleetctl \[global flags\] <command> \[flags\] \[arguments\.\.\.\]\n\nVersion:\n\t0\.1\.0\n\nCommands:\n/);
    expect(r.stdout).toContain('fleetctl completion <shell>');
    expect(r.stdout).toMatch(/Global Flags:\n/);
    for (const spec of globalFlagSpecs) {
      if (spec.hidden === true) expect(r.stdout).not.toContain(`--${spec.name} `);
      else expect(r.stdout).toContain(`--${spec.name}`);
    }
    // fleet lists its deprecated verify too.
    expect(r.stdout).toMatch(/fleetctl verify/);
    expect(h.api.requests).toEqual([]);
  });

  it.each([
    [['help', 'list-units'], 'list-units'],
    [['help', 'list-unit-f'], 'list-unit-files'],
    [['list-units', '--help'], 'list-units'],
    [['list-m', '-h'], 'list-machines'],
    [['--debug', 'help', '--endpoint', 'x', 'list-m'], 'list-machines'],
  ])('%j prints the help of %s', async (args, command) => {
    const r = await h.fleetctl(args);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout.startsWith(`fleetctl ${command}\n`)).toBe(true);
    expect(r.stdout).toMatch(/--no-legend/);
    expect(r.stdout).toMatch(/-l, --full/);
    expect(r.stdout).toMatch(/--endpoint/);
  });

  it('explains restart and its blocking flags', async () => {
    const r = await h.fleetctl(['help', 'restart']);
    expect(r.stdout).toMatch(/^fleetctl restart \[units\.\.\]\n/);
    expect(r.stdout).toContain('--block-attempts');
    expect(r.stdout).toContain('--no-block');
  });
});

describe('deprecated features', () => {
  it.each([[['verify', 'hello.service']], [['verify']], [['verif', 'a', 'b']]])("%j: fleet's lines, exit 2", async (args) => {
    const r = await h.fleetctl(args);
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr: 'Command "verify" is deprecated, DEPRECATED - No longer works\nWARNING: The signed/verified units feature is DEPRECATED and cannot be used.\n',
      sleeps: [],
    });
    expect(h.api.requests).toEqual([]);
  });

  it.each([[['submit', '--sign', 'hello']], [['load', '--sign', '--no-block', 'hello']], [['start', 'hello', '--no-block', '--sign']]])(
    '%j: --sign is accepted and ignored, as fleet does',
    async (args) => {
      h.api.addUnit('hello.service', [{ section: 'Service', name: 'ExecStart', value: '/bin/true' }]);
      expect(await h.fleetctl(args)).toMatchObject({ code: 0, stderr: '' });
    },
  );

  it('accepts --experimental-api, deprecated, and ignores it', async () => {
    for (const flag of ['--experimental-api', '--experimental-api=false']) {
      expect(await h.fleetctl([flag, 'list-machines', '--fields', 'ip', '--no-legend'])).toMatchObject({ code: 0, stdout: '10.10.1.2\n10.10.1.1\n' });
    }
  });
});

describe('global flags and the environment', () => {
  it('accepts every global flag of fleet before or after the command', async () => {
    const flags = [
      '--request-timeout=2',
      '--driver=API',
      '--etcd-key-prefix=/elsewhere/',
      '--key-file=/nonexistent/key.pem',
      '--cert-file=/nonexistent/cert.pem',
      '--ca-file=/nonexistent/ca.pem',
      '--tunnel=',
      '--known-hosts-file=/tmp/known_hosts',
      '--strict-host-key-checking=false',
      '--ssh-timeout=2.5',
      '--ssh-username=admin',
      '--etcd-keyfile=/nonexistent/key.pem',
      '--etcd-certfile=/nonexistent/cert.pem',
      '--etcd-cafile=/nonexistent/ca.pem',
    ];
    // TLS files only matter for https:// endpoints: the unix socket ignores them, as fleet does.
    const before = await h.fleetctl([...flags, 'list-machines', '--fields', 'ip', '--no-legend']);
    expect(before).toMatchObject({ code: 0, stdout: '10.10.1.2\n10.10.1.1\n', stderr: '' });
    const after = await h.fleetctl(['list-machines', '--fields', 'ip', '--no-legend', ...flags]);
    expect(after).toMatchObject({ code: 0, stdout: '10.10.1.2\n10.10.1.1\n', stderr: '' });
  });

  it.each(globalFlagSpecs.map((spec) => [spec.name, spec]))('--%s defaults to fleet\'s value and to FLEETCTL_<FLAG>', async (_name, spec) => {
    const envName = `FLEETCTL_${spec.name.toUpperCase().replace(/-/g, '_')}`;
    const [value, expected] =
      spec.type === 'boolean' ? [String(!(spec.fallback as boolean)), !(spec.fallback as boolean)] : spec.type === 'number' ? ['7.5', 7.5] : ['from-env', 'from-env'];
    const parse = async (env: Record<string, string>): Promise<Record<string, unknown>> => {
      const output = new CapturedOutput();
      const cli = buildCli({ output, env, clock: new SteppingClock(), makeClient: makeHttpClient });
      return (await cli.parseAsync(['version'])) as Record<string, unknown>;
    };
    expect((await parse({}))[spec.name]).toBe(spec.fallback);
    expect((await parse({ [envName]: value }))[spec.name]).toBe(expected);
    // An empty variable is unset, as in fleet's getFlagsFromEnv.
    expect((await parse({ [envName]: '' }))[spec.name]).toBe(spec.fallback);
  });

  it('prefers the command line to the environment', async () => {
    const r = await h.fleetctl(['list-machines', '--endpoint', h.api.endpoint, '--no-legend', '--fields', 'ip'], {
      FLEETCTL_ENDPOINT: 'unix:///nonexistent.sock',
    });
    expect(r).toMatchObject({ code: 0, stdout: '10.10.1.2\n10.10.1.1\n' });
  });

  it('takes the endpoint from FLEETCTL_ENDPOINT', async () => {
    const r = await h.fleetctl(['list-machines', '--no-legend'], { FLEETCTL_ENDPOINT: h.api.endpoint });
    expect(r).toMatchObject({ code: 0, stdout: '595989bb...\t10.10.1.2\t-\nc31e44e1...\t10.10.1.1\tregion=us-west\n' });
  });

  it('passes --request-timeout (seconds) to the client in milliseconds, from flag or env', async () => {
    const seen: [string, number][] = [];
    const makeClient = (config: ClientConfig) => {
      seen.push([config.endpoint, config.timeoutMs]);
      return makeHttpClient(config);
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

  it('says with --debug that TLS files are ignored for a non-https endpoint', async () => {
    const r = await h.fleetctl(['list-machines', '--debug', '--ca-file', '/nonexistent/ca.pem']);
    expect(r.stderr).toBe(`DEBUG: ignoring --ca-file: endpoint ${h.api.endpoint} is not https://\nDEBUG: GET /fleet/v1/machines -> 200\n`);
  });

  it('takes --no-block from FLEETCTL_NO_BLOCK', async () => {
    h.api.addUnit('hello.service', [{ section: 'Service', name: 'ExecStart', value: '/bin/true' }]);
    const r = await h.fleetctl(['start', 'hello'], { FLEETCTL_ENDPOINT: h.api.endpoint, FLEETCTL_NO_BLOCK: '1' });
    expect(r).toMatchObject({ code: 0, stdout: 'Triggered unit hello.service start\n'.repeat(2) });
  });

  it('rejects a malformed environment value', async () => {
    const r = await h.fleetctl(['list-units'], { FLEETCTL_ENDPOINT: h.api.endpoint, FLEETCTL_REQUEST_TIMEOUT: 'soon' });
    expect(r).toMatchObject({ code: 1, stderr: 'Error: invalid number "soon" in FLEETCTL_REQUEST_TIMEOUT\n' });
  });

  it.each([
    [['--request-timeout', '0'], '--request-timeout must be a number of seconds > 0, got 0'],
    [['--endpoint', 'ftp://host'], 'invalid endpoint "ftp://host": unsupported scheme ftp:'],
    [['--endpoint', ''], 'URL scheme undefined'],
    [['--endpoint', 'unix://var/run/fleet.sock'], 'unable to connect to host "var" with scheme "unix"'],
    [['--driver', 'etcd'], '--driver=etcd is not supported: this fleetctl only talks to the fleet API (--driver=API)'],
    [['--driver=', '--endpoint', 'http://127.0.0.1:2379'], '--driver=etcd is not supported: this fleetctl only talks to the fleet API (--driver=API)'],
    [['--driver', 'api'], 'unrecognized driver "api" (the only driver is "API")'],
    [
      ['--tunnel', '10.0.0.1'],
      '--tunnel is not supported: forward the API yourself (ssh -N -L 49153:/var/run/fleet.sock core@10.0.0.1) and use --endpoint http://127.0.0.1:49153',
    ],
    [
      ['--tunnel', 'bastion:2222', '--ssh-username', 'admin'],
      '--tunnel is not supported: forward the API yourself (ssh -N -L 49153:/var/run/fleet.sock -p 2222 admin@bastion) and use --endpoint http://127.0.0.1:49153',
    ],
  ])("refuses %j before any request, as fleet words a client it cannot make", async (flags, why) => {
    const r = await h.fleetctl(['list-units', ...flags]);
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: `Unable to initialize client: ${why}\n` });
    expect(h.api.requests).toEqual([]);
  });

  it('refuses FLEETCTL_TUNNEL and FLEETCTL_DRIVER=etcd too', async () => {
    const base = { FLEETCTL_ENDPOINT: h.api.endpoint };
    expect((await h.fleetctl(['list-units'], { ...base, FLEETCTL_TUNNEL: 'host' })).stderr).toMatch(/^Unable to initialize client: --tunnel is not supported/);
    expect((await h.fleetctl(['list-units'], { ...base, FLEETCTL_DRIVER: 'etcd' })).stderr).toMatch(/^Unable to initialize client: --driver=etcd is not supported/);
  });
});
