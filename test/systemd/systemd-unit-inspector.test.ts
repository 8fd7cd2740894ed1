import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseUnitFile, parseUnitName, type UnitName } from '@fleet/core/model';
import { ensureJournald, type Journald } from '../../scripts/local-cluster/journald.js';
import { pollUntil } from '../../scripts/local-cluster/processes.js';
import { startSystemdUser, stopSystemdUser, type SystemdUserInstance } from '../../scripts/local-cluster/systemd-user.js';
import { formatUnitStatus, SystemdConnection, SystemdUnitInspector, SystemdUnitManager, type UnitStatusDetail } from '@fleet/agent';
import { toUnitStatusDetail, unitControlGroup, type UnitProperties } from '@fleet/agent/systemd';

// A real systemd-journald (started if none runs, before the instance: units started earlier log
// nowhere) and a real `systemd --user` in its own cgroup. If either cannot start, every test that
// needs them fails with the reason; none is skipped.
let root: string;
let journald: Journald | undefined;
let instance: SystemdUserInstance | undefined;
let connection: SystemdConnection | undefined;
let manager: SystemdUnitManager | undefined;
let inspector: SystemdUnitInspector | undefined;
let unitsDirectory: string;
let startError: unknown;
const tag = `${process.pid}-${randomBytes(3).toString('hex')}`;
const unit = (base: string): UnitName => parseUnitName(`${base}-${tag}.service`);
const hello = unit('hello');
const other = unit('other');
const late = unit('late');
const deadline = { timeoutMs: 15_000, intervalMs: 100 };

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fleet-inspector-test-'));
  unitsDirectory = join(root, 'units');
  try {
    journald = await ensureJournald({ logFile: join(root, 'journald.log') });
    instance = await startSystemdUser({ runtimeDir: join(root, 'runtime'), cgroup: `fleet-test-${tag}`, logFile: join(root, 'systemd.log') });
    // As in fleetd: the manager and the inspector share one connection.
    connection = await SystemdConnection.open({ busAddress: instance.busAddress });
    manager = new SystemdUnitManager(connection, { unitsDirectory });
    inspector = new SystemdUnitInspector(connection, { journalMatch: 'control-group' });
    const units: [UnitName, string][] = [
      [hello, "[Unit]\nDescription=Hello World\n\n[Service]\nExecStart=/bin/sh -c 'echo line-1; echo line-2; sleep 1000'\n"],
      [other, "[Service]\nExecStart=/bin/sh -c 'echo other-1; echo other-2; echo other-3; sleep 1000'\n"],
      // Prints "after" only once the test has seen "before" and created the file: a line written while following.
      [late, `[Service]\nExecStart=/bin/sh -c 'echo before; while [ ! -e ${join(root, 'go')} ]; do sleep 0.1; done; echo after; sleep 1000'\n`],
    ];
    for (const [name, text] of units) await manager.load(name, parseUnitFile(text));
    await manager.reloadUnitFiles();
    for (const [name] of units) await manager.start(name);
  } catch (err) {
    startError = err;
  }
}, 60_000);

afterAll(async () => {
  await inspector?.close();
  await manager?.close();
  await connection?.close();
  // Stopping the instance stops its units and so closes their streams; then journald may go (if we started it).
  if (instance !== undefined) await stopSystemdUser(instance);
  await journald?.stop();
  await rm(root, { recursive: true, force: true });
}, 90_000);

function ready(): { inspector: SystemdUnitInspector; manager: SystemdUnitManager; instance: SystemdUserInstance } {
  if (inspector === undefined || manager === undefined || instance === undefined) {
    throw new Error(`journald + systemd --user did not start: ${String(startError)}`, { cause: startError });
  }
  return { inspector, manager, instance };
}

async function journal(name: UnitName, lines: number): Promise<string[]> {
  const out: string[] = [];
  for await (const line of ready().inspector.journal(name, { lines, follow: false })) out.push(line);
  return out;
}

/** The message part of a `-o short` line: `Nov 22 02:37:09 host sh[12053]: line-1` → `line-1`. */
function message(line: string): string {
  const match = /^[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \S+ sh\[\d+\]: (.*)$/.exec(line);
  if (match === null) throw new Error(`not a journalctl -o short line of sh: ${JSON.stringify(line)}`);
  return match[1] ?? '';
}

/** PIDs of the journalctl processes this test process started (children named journalctl). */
function ourJournalctls(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (comm === 'journalctl' && ppid === process.pid) pids.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

describe('SystemdUnitInspector on systemd --user with journald', () => {
  it('reports a running service: active/running, its main PID, its cgroup and unit file', async () => {
    const { inspector, instance } = ready();
    const status = await pollUntil('hello to run', async () => {
      const s = await inspector.status(hello);
      return s.subState === 'running' ? s : undefined;
    }, deadline);
    expect(status).toMatchObject({
      name: hello,
      description: 'Hello World',
      loadState: 'loaded',
      activeState: 'active',
      subState: 'running',
      unitFileState: 'linked-runtime',
      controlGroup: `/${instance.cgroup}/app.slice/${hello}`,
      service: { result: 'success', lastExit: null },
    });
    // systemd names the runtime link, not the file in the units directory it points to.
    expect(status.fragmentPath).toBe(join(instance.runtimeDir, 'systemd', 'user', hello));
    const mainPid = status.service?.mainPid;
    if (mainPid === undefined || mainPid === null) throw new Error('no main PID');
    // The PID is the unit's own process, in the cgroup reported.
    expect(readFileSync(`/proc/${mainPid}/cgroup`, 'utf8')).toContain(`:${status.controlGroup}\n`);
    expect(status.activeEnterTimestamp).toBeGreaterThan(Date.now() - 60_000);
    expect(status.activeEnterTimestamp).toBeLessThanOrEqual(Date.now());

    const text = formatUnitStatus(status, Date.now()).split('\n');
    expect(text[0]).toBe(`● ${hello} - Hello World`);
    expect(text[1]).toBe(`     Loaded: loaded (${status.fragmentPath}; linked-runtime)`);
    expect(text[2]).toMatch(/^ {5}Active: active \(running\) since \w{3} \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC; \d+(ms|s) ago$/);
    expect(text.slice(3)).toEqual([`   Main PID: ${mainPid}`, `     CGroup: ${status.controlGroup}`]);
  });

  it("returns exactly a unit's own lines, never another unit's", async () => {
    const helloLines = await pollUntil('both lines of hello in the journal', async () => {
      const lines = await journal(hello, 10);
      return lines.length >= 2 ? lines : undefined;
    }, deadline);
    expect(helloLines.map(message)).toEqual(['line-1', 'line-2']);
    const otherLines = await pollUntil('the lines of other in the journal', async () => {
      const lines = await journal(other, 10);
      return lines.length >= 3 ? lines : undefined;
    }, deadline);
    expect(otherLines.map(message)).toEqual(['other-1', 'other-2', 'other-3']);
    // -n: the most recent lines only.
    expect((await journal(other, 2)).map(message)).toEqual(['other-2', 'other-3']);
    expect(await journal(other, 0)).toEqual([]);
  });

  it('follows: yields a line the unit prints later, and on abort stops with journalctl gone', async () => {
    const { inspector } = ready();
    const controller = new AbortController();
    // The deadline of this test: an abort that would end the loop without "after".
    const timer = setTimeout(() => controller.abort(), 20_000);
    const seen: string[] = [];
    let whileFollowing: number[] = [];
    try {
      for await (const line of inspector.journal(late, { lines: 10, follow: true, signal: controller.signal })) {
        seen.push(message(line));
        if (message(line) === 'before') await writeFile(join(root, 'go'), '');
        if (message(line) === 'after') {
          whileFollowing = ourJournalctls();
          controller.abort();
        }
      }
    } finally {
      clearTimeout(timer);
    }
    expect(seen).toEqual(['before', 'after']);
    expect(whileFollowing).toHaveLength(1);
    // The iteration ends only once its journalctl has exited.
    expect(ourJournalctls()).toEqual([]);
  }, 30_000);

  it('still reads the log of a unit that stopped (its cgroup derived from the manager and slice)', async () => {
    const { inspector, manager } = ready();
    await pollUntil('hello to have logged', async () => ((await journal(hello, 10)).length >= 2 ? true : undefined), deadline);
    await manager.stop(hello);
    const stopped: UnitStatusDetail = await pollUntil('hello to stop', async () => {
      const s = await inspector.status(hello);
      return s.activeState === 'inactive' ? s : undefined;
    }, deadline);
    expect(stopped).toMatchObject({ activeState: 'inactive', subState: 'dead', controlGroup: null, service: { mainPid: null } });
    expect((await journal(hello, 10)).map(message)).toEqual(['line-1', 'line-2']);
  });

  it('reports a unit systemd does not know as not-found, with an empty journal', async () => {
    const { inspector } = ready();
    const missing = unit('missing');
    expect(await inspector.status(missing)).toMatchObject({ name: missing, loadState: 'not-found', activeState: 'inactive', controlGroup: null, fragmentPath: '' });
    expect(await journal(missing, 10)).toEqual([]);
  });
});

describe('unitControlGroup', () => {
  it.each([
    ['/fleet-abc-m1', 'app.slice', 'hello.service', '/fleet-abc-m1/app.slice/hello.service'],
    ['/fleet-abc-m1/', 'app.slice', 'hello.service', '/fleet-abc-m1/app.slice/hello.service'],
    ['/', 'system.slice', 'hello.service', '/system.slice/hello.service'],
    ['', 'a-b-c.slice', 'x.service', '/a.slice/a-b.slice/a-b-c.slice/x.service'],
    ['/m', '-.slice', 'x.service', '/m/x.service'],
  ])('manager %j, slice %j, unit %j → %j', (managerCgroup, slice, name, expected) => {
    expect(unitControlGroup(managerCgroup, slice, name)).toBe(expected);
  });
});

describe('toUnitStatusDetail', () => {
  const base: UnitProperties = {
    id: 'a.service',
    description: 'A',
    loadState: 'loaded',
    activeState: 'failed',
    subState: 'failed',
    unitFileState: 'linked-runtime',
    fragmentPath: '/u/a.service',
    activeEnterTimestamp: 1_795_316_984_392_686,
    activeExitTimestamp: 0,
    inactiveEnterTimestamp: 1_795_316_985_000_999,
    inactiveExitTimestamp: 0,
    service: { mainPid: 0, execMainPid: 42, execMainCode: 2, execMainStatus: 15, result: 'signal', controlGroup: '', slice: 'app.slice' },
  };

  it('turns µs into ms (0 = never → null), PID 0 and an empty cgroup into null, and names how the main process ended', () => {
    expect(toUnitStatusDetail(base)).toEqual({
      name: 'a.service',
      description: 'A',
      loadState: 'loaded',
      activeState: 'failed',
      subState: 'failed',
      unitFileState: 'linked-runtime',
      fragmentPath: '/u/a.service',
      activeEnterTimestamp: 1_795_316_984_392,
      activeExitTimestamp: null,
      inactiveEnterTimestamp: 1_795_316_985_000,
      inactiveExitTimestamp: null,
      controlGroup: null,
      service: { mainPid: null, result: 'signal', lastExit: { pid: 42, code: 'killed', status: 15 } },
    });
  });

  it('has no last exit while the main process runs, and no service part for other unit types', () => {
    const runningService = { ...base.service!, mainPid: 42, execMainCode: 0, execMainStatus: 0, controlGroup: '/m/app.slice/a.service' };
    expect(toUnitStatusDetail({ ...base, service: runningService })).toMatchObject({ controlGroup: '/m/app.slice/a.service', service: { mainPid: 42, lastExit: null } });
    expect(toUnitStatusDetail({ ...base, id: 'a.timer', service: undefined })).toMatchObject({ controlGroup: null, service: null });
  });
});
