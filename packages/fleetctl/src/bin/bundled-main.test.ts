import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadBundledMain } from './bundled-main.js';

describe('loadBundledMain', () => {
  let dir: string;
  let file: string;
  let cacheFile: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'bundled-main-'));
    file = join(dir, 'main.js');
    cacheFile = join(dir, 'main.cache');
    // A CommonJS file that uses what Node's wrapper gives it.
    writeFileSync(file, "'use strict';\nconst { basename } = require('node:path');\nexports.main = async (argv) => { module.exports.seen = [basename(__filename), basename(__dirname) === basename(exports.dir), ...argv]; };\nexports.dir = __dirname;\n");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function seenAfterMain(): Promise<{ seen: unknown; rejected: boolean | undefined }> {
    const loaded = loadBundledMain(file, cacheFile);
    await loaded.exports.main(['list-units']);
    return { seen: (loaded.exports as unknown as { seen: unknown }).seen, rejected: loaded.script.cachedDataRejected };
  }

  it('runs the file as CommonJS without a cache file', async () => {
    expect(await seenAfterMain()).toEqual({ seen: ['main.js', true, 'list-units'], rejected: undefined });
  });

  it('uses a cache made from the same file', async () => {
    writeFileSync(cacheFile, loadBundledMain(file, cacheFile).script.createCachedData());
    expect(await seenAfterMain()).toEqual({ seen: ['main.js', true, 'list-units'], rejected: false });
  });

  it('compiles the file as without a cache when V8 rejects it', async () => {
    writeFileSync(cacheFile, 'not a code cache');
    expect(await seenAfterMain()).toEqual({ seen: ['main.js', true, 'list-units'], rejected: true });
  });
});
