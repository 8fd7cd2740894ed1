import { describe, expect, it } from 'vitest';
import { formatRelative, formatTimestamp, formatUnitStatus } from './format-unit-status.js';
import type { UnitStatusDetail } from './unit-inspector.js';

const since = Date.UTC(2026, 10, 22, 2, 37, 9); // Sun 2026-11-22 02:37:09 UTC
const never = { activeEnterTimestamp: null, activeExitTimestamp: null, inactiveEnterTimestamp: null, inactiveExitTimestamp: null };

const running: UnitStatusDetail = {
  name: 'hello.service',
  description: 'Hello World',
  loadState: 'loaded',
  activeState: 'active',
  subState: 'running',
  unitFileState: 'linked-runtime',
  fragmentPath: '/run/fleet/units/hello.service',
  ...never,
  activeEnterTimestamp: since,
  inactiveExitTimestamp: since - 5,
  controlGroup: '/fleet-abc-m1/app.slice/hello.service',
  service: { mainPid: 12053, result: 'success', lastExit: null },
};

describe('formatUnitStatus', () => {
  it.each<{ case: string; detail: UnitStatusDetail; now: number; expected: string[] }>([
    {
      case: 'a running service, as systemctl status prints its header',
      detail: running,
      now: since + 2_400,
      expected: [
        '● hello.service - Hello World',
        '     Loaded: loaded (/run/fleet/units/hello.service; linked-runtime)',
        '     Active: active (running) since Sun 2026-11-22 02:37:09 UTC; 2s ago',
        '   Main PID: 12053',
        '     CGroup: /fleet-abc-m1/app.slice/hello.service',
      ],
    },
    {
      case: 'a failed service: result instead of a repeated sub-state, the main process exit status',
      detail: {
        ...running,
        activeState: 'failed',
        subState: 'failed',
        inactiveEnterTimestamp: since + 90_000,
        controlGroup: null,
        service: { mainPid: null, result: 'exit-code', lastExit: { pid: 12053, code: 'exited', status: 3 } },
      },
      now: since + 90_000 + 508,
      expected: [
        '× hello.service - Hello World',
        '     Loaded: loaded (/run/fleet/units/hello.service; linked-runtime)',
        '     Active: failed (Result: exit-code) since Sun 2026-11-22 02:38:39 UTC; 508ms ago',
        '   Main PID: 12053 (code=exited, status=3)',
      ],
    },
    {
      case: 'a service killed by a signal, with named exit statuses',
      detail: {
        ...running,
        activeState: 'failed',
        subState: 'failed',
        inactiveEnterTimestamp: since,
        controlGroup: null,
        service: { mainPid: null, result: 'signal', lastExit: { pid: 7, code: 'killed', status: 9 } },
      },
      now: since + 61 * 60_000,
      expected: [
        '× hello.service - Hello World',
        '     Loaded: loaded (/run/fleet/units/hello.service; linked-runtime)',
        '     Active: failed (Result: signal) since Sun 2026-11-22 02:37:09 UTC; 1h 1min ago',
        '   Main PID: 7 (code=killed, signal=KILL)',
      ],
    },
    {
      case: 'a stopped unit systemd has garbage-collected: no times, no PID, no cgroup',
      detail: { ...running, ...never, description: 'hello.service', activeState: 'inactive', subState: 'dead', controlGroup: null, service: { mainPid: null, result: 'success', lastExit: null } },
      now: since,
      expected: ['○ hello.service', '     Loaded: loaded (/run/fleet/units/hello.service; linked-runtime)', '     Active: inactive (dead)'],
    },
    {
      case: 'a unit systemd does not know',
      detail: { ...running, ...never, description: '', loadState: 'not-found', activeState: 'inactive', subState: 'dead', unitFileState: '', fragmentPath: '', controlGroup: null, service: null },
      now: since,
      expected: ['○ hello.service', '     Loaded: not-found', '     Active: inactive (dead)'],
    },
    {
      case: 'an activating service: since it left inactive; a successful exit is named',
      detail: {
        ...running,
        activeState: 'activating',
        subState: 'auto-restart',
        unitFileState: '',
        controlGroup: null,
        service: { mainPid: null, result: 'success', lastExit: { pid: 99, code: 'exited', status: 0 } },
      },
      now: since - 5 + 3 * 86_400_000,
      expected: [
        '● hello.service - Hello World',
        '     Loaded: loaded (/run/fleet/units/hello.service)',
        '     Active: activating (auto-restart) since Sun 2026-11-22 02:37:08 UTC; 3 days ago',
        '   Main PID: 99 (code=exited, status=0/SUCCESS)',
      ],
    },
  ])('$case', ({ detail, now, expected }) => {
    expect(formatUnitStatus(detail, now).split('\n')).toEqual(expected);
  });
});

describe('formatRelative (systemd format_timestamp_relative)', () => {
  const s = 1_000;
  const min = 60 * s;
  const h = 60 * min;
  const d = 24 * h;
  it.each<[number, string]>([
    [0, 'now'],
    [7, '7ms ago'],
    [59 * s + 999, '59s ago'],
    [90 * s, '1min 30s ago'],
    [5 * min + 59 * s, '5min ago'],
    [2 * h + 5 * min, '2h 5min ago'],
    [7 * h, '7h ago'],
    [26 * h, '1 day 2h ago'],
    [3 * d + 4 * h, '3 days ago'],
    [9 * d, '1 week 2 days ago'],
    [40 * d, '1 month 9 days ago'],
    [800 * d, '2 years 2 months ago'],
  ])('%i ms before now is %s', (ago, expected) => {
    expect(formatRelative(since - ago, since)).toBe(expected);
  });

  it('says "left" for a time in the future', () => {
    expect(formatRelative(since + 3 * s, since)).toBe('3s left');
  });

  it('prints timestamps in UTC in systemd style', () => {
    expect(formatTimestamp(Date.UTC(2027, 0, 4, 23, 5, 1))).toBe('Mon 2027-01-04 23:05:01 UTC');
  });
});
