import { hashUnitFile, type UnitFile } from '@fleet/core/model';
import { codec, type KeySchema } from '@fleet/core/registry';
import type { Etcd3 } from 'etcd3';
import { chunksOf, etcdCall } from './etcd-client.js';
import type { Logger } from '@fleet/core';

/** Default bound of {@link UnitFileCache}: far more distinct files than a cluster runs units. */
export const defaultUnitFileCacheSize = 20_000;

/**
 * Unit files by hash, least recently used dropped beyond `limit` (files are immutable per hash, so
 * an entry never goes stale; the bound only caps memory). Only files that really have their hash
 * are kept.
 */
export class UnitFileCache {
  private readonly files = new Map<string, UnitFile>();

  constructor(private readonly log: Logger, readonly limit = defaultUnitFileCacheSize) {}

  get size(): number { return this.files.size; }

  get(hash: string): UnitFile | undefined {
    const file = this.files.get(hash);
    if (file !== undefined) {
      this.files.delete(hash); // most recently used last
      this.files.set(hash, file);
    }
    return file;
  }

  has(hash: string): boolean { return this.files.has(hash); }

  /** Decodes a stored file and keeps it if it has `hash`; a corrupt or mismatched one is logged and skipped. */
  putStored(key: string, hash: string, raw: string): UnitFile | undefined {
    let file: UnitFile;
    try {
      file = codec.decodeUnitFile(key, raw);
    } catch (err) {
      this.log.warn('skipping corrupt unit file', { key, err });
      return undefined;
    }
    if (hashUnitFile(file) !== hash) {
      this.log.warn('unit file does not match its hash; ignoring it', { key });
      return undefined;
    }
    this.files.delete(hash);
    this.files.set(hash, file);
    if (this.files.size > this.limit) {
      const oldest = this.files.keys().next().value;
      if (oldest !== undefined) this.files.delete(oldest);
    }
    return file;
  }
}

/** Files per transaction of {@link readUnitFiles}, under etcd's default cap of 128 operations. */
const filesPerRead = 100;

/**
 * The stored files with these hashes: from `cache`, the others read from etcd, a hundred range
 * reads per transaction (one round trip per hundred files, whatever the number stored), and kept
 * in `cache`. Missing files are absent from the answer. Collected as they are read, not from the
 * cache afterwards: a bounded cache may already have dropped some of a large batch again. Throws
 * RegistryUnavailableError.
 */
export async function readUnitFiles(client: Etcd3, keys: KeySchema, cache: UnitFileCache, hashes: readonly string[]): Promise<Map<string, UnitFile>> {
  const out = new Map<string, UnitFile>();
  const missing: string[] = [];
  for (const hash of new Set(hashes)) {
    const file = cache.get(hash);
    if (file !== undefined) out.set(hash, file);
    else missing.push(hash);
  }
  for (const batch of chunksOf(missing, filesPerRead)) {
    const res = await etcdCall('read unit files', () => client.kv.txn({ success: batch.map((h) => ({ request_range: { key: Buffer.from(keys.unitFile(h)) } })) }));
    for (const [j, op] of res.responses.entries()) {
      const kv = op.response_range?.kvs[0];
      const hash = batch[j];
      if (kv === undefined || hash === undefined) continue;
      const file = cache.putStored(kv.key.toString(), hash, kv.value.toString());
      if (file !== undefined) out.set(hash, file);
    }
  }
  return out;
}

