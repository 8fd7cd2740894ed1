import { describe, expect, it } from 'vitest';
import { hashUnitFile, parseUnitFile } from '@fleet/core/model';
import { codec } from '@fleet/core/registry';
import { RecordingLogger } from '@fleet/core/testing';
import { UnitFileCache } from './unit-file-cache.js';

const fileOf = (n: number) => parseUnitFile(`[Service]\nExecStart=/bin/sleep ${n}\n`);
const stored = (n: number) => ({ key: `/p/unit-files/${hashUnitFile(fileOf(n))}`, hash: hashUnitFile(fileOf(n)), raw: codec.encodeUnitFile(fileOf(n)) });

describe('UnitFileCache', () => {
  it('keeps at most `limit` files, dropping the least recently used', () => {
    const cache = new UnitFileCache(new RecordingLogger(), 2);
    const [a, b, c] = [stored(1), stored(2), stored(3)];
    cache.putStored(a.key, a.hash, a.raw);
    cache.putStored(b.key, b.hash, b.raw);
    expect(cache.get(a.hash)).toEqual(fileOf(1)); // a is now the most recently used
    cache.putStored(c.key, c.hash, c.raw);
    expect([cache.has(a.hash), cache.has(b.hash), cache.has(c.hash), cache.size]).toEqual([true, false, true, 2]);
  });

  it('keeps only files that have their hash, and logs the others', () => {
    const log = new RecordingLogger();
    const cache = new UnitFileCache(log, 10);
    const a = stored(1);
    expect(cache.putStored(a.key, stored(2).hash, a.raw)).toBeUndefined();
    expect(cache.putStored(a.key, a.hash, 'not json')).toBeUndefined();
    expect(cache.size).toBe(0);
    expect(log.messages('warn')).toEqual(['unit file does not match its hash; ignoring it', 'skipping corrupt unit file']);
  });
});
