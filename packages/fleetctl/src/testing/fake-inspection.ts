import type { UnitInspection } from '@fleet/api';
import type { MachineId, MachineState, UnitName } from '@fleet/core/model';
import type { InMemoryRegistry } from '@fleet/core/testing';

/** What a machine's fleetd answers about one of its units' systemd status. */
export interface FakeSystemdStatus {
  readonly text: string;
  readonly unit: unknown;
}

type ForwardedResponse = Awaited<ReturnType<UnitInspection['forward']>>;

/** An open `follow=true` journal answer. */
interface Follower {
  readonly key: string;
  readonly queue: string[];
  ended: boolean;
  wake: (() => void) | undefined;
}

/**
 * The machines' fleetds as the real API reaches them for `status` and `journal`: no machine is
 * the one this API runs on, so every such request takes the API's forwarding path (the one that
 * checks the machine is present and reports a machine it cannot reach) and lands here. Answers
 * come from `systemdStatus` (else a status made up from the registry's unit state, as a machine's
 * systemd would render it) and `journals`; machines in `unreachable` refuse the connection.
 */
export class FakeInspection implements UnitInspection {
  /** A machine that is never in the cluster (see the class comment). */
  readonly machineId = '00000000000000000000000000000000' as MachineId;
  /** systemd status per `<machine>/<unit>`; unset entries are made up from the unit states. */
  readonly systemdStatus = new Map<string, FakeSystemdStatus>();
  /** Log lines (without line breaks) per `<machine>/<unit>`. */
  readonly journals = new Map<string, string[]>();
  /** Machines whose fleetd "cannot be reached". */
  readonly unreachable = new Set<string>();
  readonly #followers = new Set<Follower>();
  #followerWaiters: (() => void)[] = [];

  constructor(private readonly registry: InMemoryRegistry) {}

  localStatus(): never {
    throw new Error('FakeInspection is never the local machine');
  }

  localJournal(): never {
    throw new Error('FakeInspection is never the local machine');
  }

  async forward(machine: MachineState, pathAndQuery: string, signal: AbortSignal): Promise<ForwardedResponse> {
    if (this.unreachable.has(machine.id)) throw new Error('connect ECONNREFUSED');
    const url = new URL(pathAndQuery, 'http://fake');
    const match = /^\/fleet\/v1\/machines\/[^/]+\/units\/([^/]+)\/(status|journal)$/.exec(url.pathname);
    if (match === null) throw new Error(`FakeInspection cannot answer ${pathAndQuery}`);
    const unit = decodeURIComponent(match[1] ?? '');
    const key = `${machine.id}/${unit}`;
    if (match[2] === 'status') {
      const status = this.systemdStatus.get(key) ?? this.#madeUpStatus(machine.id, unit);
      return { status: 200, contentType: 'application/json', body: once(JSON.stringify({ machineID: machine.id, ...status })) };
    }
    // The API checked `lines` and `follow` before forwarding.
    const lines = Number(url.searchParams.get('lines') ?? '10');
    const follow = url.searchParams.get('follow') === 'true';
    return { status: 200, contentType: 'text/plain; charset=utf-8', body: this.#journal(key, lines, follow, signal) };
  }

  /** Adds log lines of `unit` on `machine`, and streams them to the requests following that log. */
  appendJournal(machine: string, unit: string, ...lines: string[]): void {
    const key = `${machine}/${unit}`;
    this.journals.set(key, [...(this.journals.get(key) ?? []), ...lines]);
    for (const f of this.#followers) {
      if (f.key !== key) continue;
      f.queue.push(lines.map((l) => `${l}\n`).join(''));
      f.wake?.();
    }
  }

  /** How many `follow=true` journal answers are open. */
  get followerCount(): number {
    return this.#followers.size;
  }

  /** Resolves once the number of open `follow=true` journal answers is `count`. */
  async whenFollowers(count: number): Promise<void> {
    while (this.#followers.size !== count) await new Promise<void>((resolve) => this.#followerWaiters.push(resolve));
  }

  /** Ends every open `follow=true` journal answer normally, as a fleetd shutting down would. */
  endJournals(): void {
    for (const f of this.#followers) {
      f.ended = true;
      f.wake?.();
    }
  }

  async *#journal(key: string, lines: number, follow: boolean, signal: AbortSignal): AsyncIterable<Uint8Array> {
    const newest = lines === 0 ? [] : (this.journals.get(key) ?? []).slice(-lines);
    if (newest.length > 0) yield Buffer.from(newest.map((l) => `${l}\n`).join(''));
    if (!follow) return;
    const follower: Follower = { key, queue: [], ended: false, wake: undefined };
    const onAbort = (): void => follower.wake?.();
    signal.addEventListener('abort', onAbort, { once: true });
    this.#followers.add(follower);
    this.#wakeFollowerWaiters();
    try {
      while (!signal.aborted) {
        if (follower.queue.length > 0) {
          yield Buffer.from(follower.queue.splice(0).join(''));
          continue;
        }
        if (follower.ended) return;
        await new Promise<void>((resolve) => (follower.wake = resolve));
        follower.wake = undefined;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.#followers.delete(follower);
      this.#wakeFollowerWaiters();
    }
  }

  #wakeFollowerWaiters(): void {
    const waiters = this.#followerWaiters;
    this.#followerWaiters = [];
    for (const wake of waiters) wake();
  }

  // What a machine's systemd would say, from the unit state it reported (or "not found" without one).
  #madeUpStatus(machine: string, unit: string): FakeSystemdStatus {
    const state = this.registry.states.get(`${machine}/${unit}`);
    const load = state?.loadState ?? 'not-found';
    const active = state?.activeState ?? 'inactive';
    const sub = state?.subState ?? 'dead';
    const record = this.registry.units.get(unit as UnitName);
    const file = record === undefined ? undefined : this.registry.files.get(record.hash);
    const description = file?.find((o) => o.section === 'Unit' && o.name === 'Description')?.value ?? '';
    const glyph = active === 'failed' ? '×' : active === 'inactive' ? '○' : '●';
    const text = [
      `${glyph} ${unit}${description === '' ? '' : ` - ${description}`}`,
      `     Loaded: ${load === 'loaded' ? `loaded (/run/fleet/units/${unit}; linked-runtime)` : load}`,
      // As systemctl: the sub-state is left out where it only repeats the state.
      `     Active: ${sub === active ? active : `${active} (${sub})`}`,
    ].join('\n');
    return { text, unit: { name: unit, description, loadState: load, activeState: active, subState: sub } };
  }
}

async function* once(text: string): AsyncIterable<Uint8Array> {
  yield Buffer.from(text);
}
