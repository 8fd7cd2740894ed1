import { hashUnitFile, type UnitFile } from '@fleet/core/model';
import { codec } from '@fleet/core/registry';
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
