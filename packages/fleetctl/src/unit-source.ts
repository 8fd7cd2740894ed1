import { basename, dirname, join } from 'node:path';
import { FleetError } from '@fleet/core';
import { parseUnitFile, templateOf, withDefaultSuffix } from '@fleet/core/model';
import type { UnitFile, UnitName } from '@fleet/core/model';
import { unitFileErrorText } from './fleet-text.js';

/** Reads a local text file; resolves `undefined` when there is no such file. */
export type ReadTextFile = (path: string) => Promise<string | undefined>;

/** strerror(3) of what reading a unit file may fail with, as Go prints it. */
const readErrors: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  ENAMETOOLONG: 'file name too long',
  ELOOP: 'too many levels of symbolic links',
  EISDIR: 'is a directory',
};

/**
 * {@link ReadTextFile} on the local file system. Other failures than a missing file reject with a
 * `FleetError` in Go's words, as fleet's fleetctl prints them (`open x.service: permission
 * denied`, `read units: is a directory`).
 */
export const readLocalFile: ReadTextFile = async (path) => {
  try {
    // node:fs/promises (and the readline it loads) only when a command reads a unit file: it is not
    // loaded at start-up.
    return await process.getBuiltinModule('node:fs/promises').readFile(path, 'utf8');
  } catch (err) {
    if (isNodeError(err) && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) return undefined;
    const code = isNodeError(err) ? err.code ?? '' : '';
    const text = readErrors[code] ?? (err instanceof Error ? err.message : String(err));
    throw new FleetError('INVALID_REQUEST', `${code === 'EISDIR' ? 'read' : 'open'} ${path}: ${text}`, { cause: err });
  }
};

/**
 * An argument with `.service` appended when it does not end in a unit type (fleet's
 * `maybeAppendDefaultUnitType`): `units/hello` is `units/hello.service`, where fleetctl looks for
 * the file.
 */
export function appendDefaultType(arg: string): string {
  return withDefaultSuffix(arg);
}

/**
 * The unit name an argument stands for (fleet's `unitNameMangle`): its basename, `.service`
 * appended when it has no unit type. Not validated: as in fleet, a bad name is the API's (or
 * `unitNameError`'s, before a create) to refuse.
 */
export function unitNameMangle(arg: string): string {
  return withDefaultSuffix(basename(arg));
}

/** The template `name` is an instance of (`web@1.service` → `web@.service`), or `undefined`. */
export function templateNameOf(name: string): string | undefined {
  return templateOf(name as UnitName);
}

/** Where the local file of a template instance's template is: next to the argument. */
export function localTemplatePath(arg: string, template: string): string {
  return join(dirname(arg), template);
}

/**
 * A local unit file: missing, parsed, or present but unreadable or unparsable: `message` in
 * fleet's words, `detail` in ours (with the line of a parse error), when they differ.
 */
export type LocalUnit =
  | { readonly kind: 'missing' }
  | { readonly kind: 'found'; readonly file: UnitFile }
  | { readonly kind: 'invalid'; readonly message: string; readonly detail?: string };

/** Reads and parses the unit file at `path` (as given: fleetctl does not add `.service` here). */
export async function readLocalUnit(path: string, read: ReadTextFile): Promise<LocalUnit> {
  let text: string | undefined;
  try {
    text = await read(path);
  } catch (err) {
    return { kind: 'invalid', message: err instanceof Error ? err.message : String(err) };
  }
  if (text === undefined) return { kind: 'missing' };
  try {
    return { kind: 'found', file: parseUnitFile(text) };
  } catch (err) {
    if (err instanceof FleetError) return { kind: 'invalid', message: unitFileErrorText(err.message), detail: `${path}: ${err.message}` };
    throw err;
  }
}

function isNodeError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && 'code' in err;
}
