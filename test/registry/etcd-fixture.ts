import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll } from 'vitest';
import { startEtcd, type RunningEtcd } from '../../scripts/local-cluster/etcd.js';

/** A real etcd for the tests of one file, with a client and fresh key prefixes per test. */
export interface EtcdFixture {
  readonly etcd: RunningEtcd;
  readonly client: Etcd3;
  /** A temporary directory of this file's tests (removed afterwards). */
  readonly dir: string;
  /** A key prefix no other test uses. */
  freshPrefix(): string;
}

/** Starts etcd before the file's tests and stops it (and removes its data) after them. */
export function useEtcd(label: string): EtcdFixture {
  let etcd: RunningEtcd | undefined;
  let client: Etcd3 | undefined;
  let dir: string | undefined;
  let counter = 0;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `fleet-${label}-`));
    etcd = await startEtcd({ dir, logFile: join(dir, 'etcd.log') });
    client = new Etcd3({ hosts: etcd.clientUrl });
  });
  afterAll(async () => {
    client?.close();
    await etcd?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('etcd fixture used outside a test');
    return value;
  };
  return {
    get etcd() {
      return started(etcd);
    },
    get client() {
      return started(client);
    },
    get dir() {
      return started(dir);
    },
    freshPrefix: () => `/${label}-${process.pid}-${++counter}/`,
  };
}
