import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `text` to `path` through a temp file in the same folder and a rename, so that systemd
 * never reads a half-written unit file or drop-in. The temp name (`.<name>.<random>.tmp`) has
 * neither a unit suffix nor `.conf`, so neither systemd nor the units directory's listing takes
 * it for a unit or a drop-in. The temp file is removed if the write fails.
 */
export async function writeFileAtomically(path: string, text: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temp, text, { mode: 0o644 });
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
}
