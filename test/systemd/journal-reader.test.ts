import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemdError } from '@fleet/core';
import { journalctlArgs, readJournal } from '@fleet/agent/systemd';

// readJournal's process handling, against stand-in journalctl scripts; the real journalctl and
// journald are exercised in systemd-unit-inspector.test.ts.
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fleet-journal-reader-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let scripts = 0;
/** A stand-in journalctl: records its PID and arguments, then runs `body`. */
async function fakeJournalctl(body: string): Promise<{ bin: string; pidFile: string; argsFile: string }> {
  const n = ++scripts;
  const bin = join(root, `journalctl-${n}`);
  const pidFile = join(root, `pid-${n}`);
  const argsFile = join(root, `args-${n}`);
  await writeFile(bin, `#!/bin/sh\necho $$ > '${pidFile}'\nprintf '%s\\n' "$@" > '${argsFile}'\n${body}\n`);
  await chmod(bin, 0o755);
  return { bin, pidFile, argsFile };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of lines) out.push(line);
  return out;
}

async function failure(lines: AsyncIterable<string>): Promise<unknown> {
  return collect(lines).then(
    () => undefined,
    (err: unknown) => err,
  );
}

describe('journalctlArgs', () => {
  it.each([
    { case: 'a unit of the system instance, by name', query: { unit: 'hello.service', lines: 10, follow: false }, args: ['--no-pager', '--quiet', '-o', 'short', '-n', '10', '-u', 'hello.service'] },
    {
      case: 'a unit of a user instance, by cgroup, following',
      query: { unit: 'hello.service', cgroup: '/fleet-abc-m1/app.slice/hello.service', lines: 0, follow: true },
      args: ['--no-pager', '--quiet', '-o', 'short', '-n', '0', '-f', '_SYSTEMD_CGROUP=/fleet-abc-m1/app.slice/hello.service'],
    },
  ])('$case', ({ query, args }) => {
    expect(journalctlArgs(query)).toEqual(args);
  });
});

describe('readJournal', () => {
  it('yields the lines journalctl prints and ends when it exits', async () => {
    const fake = await fakeJournalctl("echo 'Nov 22 02:37:09 vm sh[1]: line-1'; printf 'Nov 22 02:37:09 vm sh[1]: line-2'");
    const lines = await collect(readJournal({ unit: 'hello.service', cgroup: '/c/app.slice/hello.service', lines: 5, follow: false, journalctl: fake.bin }));
    expect(lines).toEqual(['Nov 22 02:37:09 vm sh[1]: line-1', 'Nov 22 02:37:09 vm sh[1]: line-2']);
    expect((await readFile(fake.argsFile, 'utf8')).trim().split('\n')).toEqual(journalctlArgs({ unit: 'hello.service', cgroup: '/c/app.slice/hello.service', lines: 5, follow: false }));
  });

  it('streams lines as they come and, on abort, ends without an error with that journalctl process gone', async () => {
    const trigger = join(root, 'trigger');
    const fake = await fakeJournalctl(`echo first; while [ ! -e '${trigger}' ]; do sleep 0.05; done; echo second; exec sleep 1000`);
    const controller = new AbortController();
    const seen: string[] = [];
    for await (const line of readJournal({ unit: 'x.service', lines: 1, follow: true, signal: controller.signal, journalctl: fake.bin })) {
      seen.push(line);
      if (line === 'first') await writeFile(trigger, ''); // "second" can only come after "first" was read
      if (line === 'second') controller.abort();
    }
    expect(seen).toEqual(['first', 'second']);
    expect(isAlive(Number(await readFile(fake.pidFile, 'utf8')))).toBe(false);
  });

  it('kills journalctl when the caller leaves the loop early', async () => {
    const fake = await fakeJournalctl('echo one; echo two; exec sleep 1000');
    for await (const line of readJournal({ unit: 'x.service', lines: 10, follow: true, journalctl: fake.bin })) {
      expect(line).toBe('one');
      break;
    }
    expect(isAlive(Number(await readFile(fake.pidFile, 'utf8')))).toBe(false);
  });

  it('starts nothing when the signal has already aborted', async () => {
    const fake = await fakeJournalctl('echo one');
    expect(await collect(readJournal({ unit: 'x.service', lines: 10, follow: false, signal: AbortSignal.abort(), journalctl: fake.bin }))).toEqual([]);
    expect(existsSync(fake.pidFile)).toBe(false);
  });

  it('fails with a SystemdError naming the reason when journalctl is missing', async () => {
    const error = await failure(readJournal({ unit: 'x.service', lines: 10, follow: false, journalctl: join(root, 'no-such-journalctl') }));
    expect(error).toBeInstanceOf(SystemdError);
    expect((error as SystemdError).message).toMatch(/journalctl x\.service failed: .*no-such-journalctl is not installed/);
  });

  it('fails with a SystemdError carrying stderr when journalctl fails', async () => {
    const fake = await fakeJournalctl("echo 'Failed to open journal: Permission denied' >&2; exit 1");
    const error = await failure(readJournal({ unit: 'x.service', lines: 10, follow: false, journalctl: fake.bin }));
    expect(error).toBeInstanceOf(SystemdError);
    expect((error as SystemdError).message).toMatch(/exited with code 1: Failed to open journal: Permission denied/);
  });

  it('rejects a line count that is not a non-negative integer', async () => {
    await expect(failure(readJournal({ unit: 'x.service', lines: -1, follow: false }))).resolves.toBeInstanceOf(RangeError);
  });
});
