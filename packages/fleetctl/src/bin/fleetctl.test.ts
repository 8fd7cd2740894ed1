import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { machineA, optionsOf, startHarness } from '../testing/harness.js';
import type { Harness } from '../testing/harness.js';

// The compiled bin (`npx tsc -b`, which npm test's bootstrap runs). A missing build fails the test.
const bin = fileURLToPath(new URL('../../dist/bin/fleetctl.js', import.meta.url));

function spawnFleetctl(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: { PATH: process.env['PATH'] ?? '', ...env } }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}

/** A running bin whose stdout is collected; `printed(text)` resolves once stdout contains `text`. */
function startFleetctl(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [bin, ...args], { env: { PATH: process.env['PATH'] ?? '', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const printed = (text: string): Promise<void> =>
    new Promise((resolve) => {
      const check = (): void => {
        if (!stdout.includes(text)) return;
        child.stdout.off('data', check);
        resolve();
      };
      child.stdout.on('data', check);
      check();
    });
  return { child: child as ChildProcess, exited, printed, output: () => ({ stdout, stderr }) };
}

describe('the fleetctl bin', () => {
  it('is built', () => {
    expect(existsSync(bin), `${bin} is missing: run npx tsc -b`).toBe(true);
  });
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('lists machines from FLEETCTL_ENDPOINT and exits 0', async () => {
    const r = await spawnFleetctl(['list-machines', '--no-legend'], { FLEETCTL_ENDPOINT: h.api.endpoint });
    expect(r).toEqual({ code: 0, stdout: '595989bb...\t10.10.1.2\t-\nc31e44e1...\t10.10.1.1\tregion=us-west\n', stderr: '' });
  });

  it('status of a unit that does not exist exits 1 with one error line', async () => {
    const r = await spawnFleetctl(['status', 'nope'], { FLEETCTL_ENDPOINT: h.api.endpoint });
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'Unit nope.service does not exist.\n' });
  });

  it("exits 1 for an unknown command, with cobra's lines", async () => {
    expect(await spawnFleetctl(['bogus'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'Error: unknown command "bogus" for "fleetctl"\nRun \'fleetctl --help\' for usage.\ncannot execute cmdFleet: unknown command "bogus" for "fleetctl"\n',
    });
  });

  it('exits 2 for verify, as fleet does', async () => {
    expect(await spawnFleetctl(['verify', 'hello.service'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'Command "verify" is deprecated, DEPRECATED - No longer works\nWARNING: The signed/verified units feature is DEPRECATED and cannot be used.\n',
    });
  });

  it('journal -f prints new lines until Ctrl-C (SIGINT), then exits 0', async () => {
    h.api.addUnit('hello.service', [{ section: 'Service', name: 'ExecStart', value: '/bin/true' }], { desiredState: 'launched' });
    h.api.converge();
    h.api.journals.set(`${machineA}/hello.service`, ['first']);
    const run = startFleetctl(['journal', '-f', 'hello'], { FLEETCTL_ENDPOINT: h.api.endpoint });
    await run.printed('first\n');
    h.api.appendJournal(machineA, 'hello.service', 'second');
    await run.printed('second\n');
    run.child.kill('SIGINT');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(run.output()).toEqual({ stdout: 'first\nsecond\n', stderr: '' });
    await h.api.whenFollowers(0);
  });

  it('Ctrl-C still ends a command that did not capture it (a blocking start), as usual', async () => {
    h.api.autoConverge = false; // never starts
    h.api.addUnit('hello.service', optionsOf('[Service]\nExecStart=/bin/true\n'));
    const run = startFleetctl(['start', 'hello'], { FLEETCTL_ENDPOINT: h.api.endpoint });
    // Polling (the unit asked for a third time): the command's handler is running.
    await new Promise<void>((resolve) => {
      h.api.onRequest = () => {
        if (h.api.requests.filter((q) => q.url === '/fleet/v1/units/hello.service').length >= 3) resolve();
      };
    });
    run.child.kill('SIGINT');
    expect(await run.exited).toEqual({ code: null, signal: 'SIGINT' });
  });

  it('completes in bash through the script of `fleetctl completion bash`', async () => {
    h.api.addUnit('hello.service', [{ section: 'Service', name: 'ExecStart', value: '/bin/true' }]);
    // `fleetctl` on PATH, as the script calls it by the name typed.
    const wrapper = join(h.dir, 'fleetctl');
    await writeFile(wrapper, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} "$@"\n`);
    await chmod(wrapper, 0o755);
    const script = [
      'source <(fleetctl completion bash)',
      't() { COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _fleetctl_completions; echo "${COMPREPLY[*]}"; }',
      't fleetctl list-m',
      't fleetctl st',
      't fleetctl list-m --f',
      't fleetctl list-machines -o ""',
      't fleetctl sto he',
    ].join('\n');
    const out = await new Promise<string>((resolve, reject) => {
      execFile(
        'bash',
        ['-c', script],
        { env: { PATH: `${h.dir}:${process.env['PATH'] ?? ''}`, FLEETCTL_ENDPOINT: h.api.endpoint } },
        (err, stdout, stderr) => (err === null ? resolve(stdout) : reject(new Error(`${String(err)}: ${stderr}`))),
      );
    });
    expect(out).toBe('list-machines\nstart stop status\n--fields --full\ntable json\nhello.service\n');
    // Six fleetctl processes start one after another: on a loaded 2-core machine that exceeds 5 s.
  }, 30_000);
});
