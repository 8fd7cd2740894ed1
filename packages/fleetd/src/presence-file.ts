import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '@fleet/core';
import type { MachineId } from '@fleet/core/model';

/**
 * The presence lease this host's fleetd holds, recorded in a file (in the units directory, which
 * is this host's own and, at its default under /run, lasts one boot). The next fleetd on this host
 * reads it: a machine record bound to that lease is its predecessor's (restarted, handed over, or
 * crashed), and is taken over instead of refused as a duplicate machine ID. A graceful stop that
 * revokes the lease removes the file.
 */
export class PresenceLeaseFile {
  constructor(private readonly path: string, private readonly log: Logger) {}

  /** The lease recorded for this machine, if any (a record of another machine ID is ignored). */
  read(machine: MachineId): string[] {
    let raw: string;
    try {
      raw = readFileSync(this.path, 'utf8');
    } catch {
      return [];
    }
    try {
      const v = JSON.parse(raw) as { machineId?: unknown; leaseId?: unknown };
      return v.machineId === machine && typeof v.leaseId === 'string' && /^\d+$/.test(v.leaseId) ? [v.leaseId] : [];
    } catch {
      this.log.warn('ignoring an unreadable presence lease record', { path: this.path });
      return [];
    }
  }

  /** Records the lease (atomically: written aside, then renamed). A failure is logged, not thrown. */
  write(machine: MachineId, leaseId: string): void {
    const tmp = `${this.path}.${process.pid}.tmp`;
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      writeFileSync(tmp, `${JSON.stringify({ machineId: machine, leaseId })}\n`, { mode: 0o600 });
      renameSync(tmp, this.path);
    } catch (err) {
      this.log.warn('cannot record the presence lease: a restarted fleetd will wait until it expires', { path: this.path, err });
    }
  }

  clear(): void {
    rmSync(this.path, { force: true });
  }
}
