import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FleetError } from '@fleet/engine';
import { parseUnitFile, parseUnitName, templateOf, withDefaultSuffix } from '@fleet/engine/model';
import type { UnitFile, UnitName } from '@fleet/engine/model';
import type { FleetApiClient } from './api-client.js';

/** Reads a local text file; resolves `undefined` when there is no such file. */
export type ReadTextFile = (path: string) => Promise<string | undefined>;

/** {@link ReadTextFile} on the local file system. */
export const readLocalFile: ReadTextFile = async (path) => {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (isNodeError(err) && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) return undefined;
    throw new FleetError('INVALID_REQUEST', `cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
};

/** Where a unit's options came from. */
export type UnitOrigin =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'registry-template'; readonly template: UnitName }
  | { readonly kind: 'local-template'; readonly template: UnitName; readonly path: string };

/** A unit ready to submit: its name and its options. */
export interface UnitSource {
  readonly name: UnitName;
  readonly file: UnitFile;
  readonly origin: UnitOrigin;
}

/**
 * The unit name a command-line argument stands for: its basename, with `.service` appended when
 * it has no unit type suffix (fleet's `unitNameMangle`). Throws `InvalidUnitNameError` naming the
 * rule the name breaks.
 */
export function unitNameFromArg(arg: string): UnitName {
  return parseUnitName(withDefaultSuffix(basename(arg)));
}

/** The local path an argument refers to: the argument with `.service` appended when it has no suffix. */
export function unitPathFromArg(arg: string): string {
  return join(dirname(arg), withDefaultSuffix(basename(arg)));
}

/** How {@link resolveUnitSource} looks things up. */
export interface UnitSourceDeps {
  readonly client: Pick<FleetApiClient, 'getUnit'>;
  readonly readFile: ReadTextFile;
}

/**
 * Finds the options of the unit an argument names, in fleet's order: the local file (`arg`, with
 * `.service` appended when it has no suffix); for a template instance (`foo@1.service`), the
 * template `foo@.service` registered in the API, else a local `foo@.service` next to the argument.
 * Resolves `undefined` when none exists. Throws `InvalidUnitNameError` for a bad name and
 * `FleetError` (`INVALID_UNIT_FILE`) naming the file when a file does not parse.
 */
export async function findUnitSource(arg: string, deps: UnitSourceDeps): Promise<UnitSource | undefined> {
  const name = unitNameFromArg(arg);
  const path = unitPathFromArg(arg);
  const text = await deps.readFile(path);
  if (text !== undefined) return { name, file: parseFile(text, path), origin: { kind: 'file', path } };

  const template = templateOf(name);
  if (template === undefined) return undefined;
  const registered = await deps.client.getUnit(template);
  if (registered !== undefined) {
    return { name, file: registered.options, origin: { kind: 'registry-template', template } };
  }
  const templatePath = join(dirname(arg), template);
  const templateText = await deps.readFile(templatePath);
  if (templateText === undefined) return undefined;
  return {
    name,
    file: parseFile(templateText, templatePath),
    origin: { kind: 'local-template', template, path: templatePath },
  };
}

/** Like {@link findUnitSource}, but a missing unit is an error (`UNIT_NOT_FOUND`) saying where it looked. */
export async function resolveUnitSource(arg: string, deps: UnitSourceDeps): Promise<UnitSource> {
  const source = await findUnitSource(arg, deps);
  if (source !== undefined) return source;
  const name = unitNameFromArg(arg);
  const template = templateOf(name);
  const where = template === undefined
    ? `unable to find unit ${name} in the registry or at ${unitPathFromArg(arg)}`
    : `unable to find unit ${name} or its template ${template} in the registry or on the filesystem`;
  throw new FleetError('UNIT_NOT_FOUND', where);
}

/** Describes where a unit's options came from, for messages. */
export function describeOrigin(origin: UnitOrigin): string {
  switch (origin.kind) {
    case 'file':
      return `local unit file ${origin.path}`;
    case 'registry-template':
      return `template ${origin.template} in the registry`;
    case 'local-template':
      return `local template unit file ${origin.path}`;
  }
}

function parseFile(text: string, path: string): UnitFile {
  try {
    return parseUnitFile(text);
  } catch (err) {
    if (err instanceof FleetError) throw new FleetError(err.code, `${path}: ${err.message}`, { cause: err });
    throw err;
  }
}

function isNodeError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && 'code' in err;
}
