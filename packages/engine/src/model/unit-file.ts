import { createHash } from 'node:crypto';
import { InvalidUnitFileError } from '../errors.js';

/** One `Name=Value` line of a unit file, with the section it belongs to. Wire format of fleet's API. */
export interface UnitOption {
  readonly section: string;
  readonly name: string;
  readonly value: string;
}

/** A unit file as fleet keeps it: an ordered list of options; repeated names are kept. */
export type UnitFile = readonly UnitOption[];

/** go-systemd's limit: a physical line of this many bytes or more is an error. */
const maxLineBytes = 2048;

/**
 * Parses unit-file text the way fleet (go-systemd's `unit.Deserialize`) does, so that hashes agree:
 * text before the first section is skipped, blank and comment lines are ignored, names and values are
 * trimmed, and a trailing backslash continues the value on the next line with the backslash and the
 * line break kept. Throws {@link InvalidUnitFileError} with a 1-based line number.
 */
export function parseUnitFile(text: string): UnitFile {
  const lines = text.split('\n');
  const options: UnitOption[] = [];
  let section: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const lineNo = i + 1;
    if (Buffer.byteLength(raw) >= maxLineBytes) throw new InvalidUnitFileError('line too long', lineNo);
    const line = raw.replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[')) {
      const close = line.indexOf(']');
      if (close === -1) throw new InvalidUnitFileError('section header has no closing "]"', lineNo);
      if (close !== line.length - 1) throw new InvalidUnitFileError('text after the section header', lineNo);
      section = line.slice(1, close);
      if (section === '') throw new InvalidUnitFileError('empty section name', lineNo);
      continue;
    }
    if (section === undefined) continue; // go-systemd skips anything before the first section
    const eq = line.indexOf('=');
    if (eq === -1) throw new InvalidUnitFileError(`expected "Name=Value", got ${JSON.stringify(line)}`, lineNo);
    const name = line.slice(0, eq).trim();
    if (name === '') throw new InvalidUnitFileError('option has an empty name', lineNo);
    let value = line.slice(eq + 1).trim();
    while (value.endsWith('\\') && i + 1 < lines.length) {
      const next = (lines[i + 1] ?? '').replace(/\r$/, '');
      if (next.trim() === '') break;
      if (Buffer.byteLength(next) >= maxLineBytes) throw new InvalidUnitFileError('line too long', i + 2);
      i++;
      value = `${value}\n${next.trim()}`;
    }
    options.push({ section, name, value });
  }
  return options;
}

/** Serialises options as go-systemd's `unit.Serialize` does: sections in order of first appearance. */
export function serializeUnitFile(file: UnitFile): string {
  const sections = new Map<string, UnitOption[]>();
  for (const option of file) {
    const list = sections.get(option.section) ?? [];
    list.push(option);
    sections.set(option.section, list);
  }
  const blocks: string[] = [];
  for (const [section, options] of sections) {
    blocks.push(`[${section}]\n${options.map((o) => `${o.name}=${o.value}\n`).join('')}`);
  }
  return blocks.join('\n');
}

/** The unit hash: SHA1 (hex) of the serialised form, as fleet computes it. */
export function hashUnitFile(file: UnitFile): string {
  return createHash('sha1').update(serializeUnitFile(file)).digest('hex');
}

/** Values of `section`/`name` in file order. */
export function optionValues(file: UnitFile, section: string, name: string): string[] {
  return file.filter((o) => o.section === section && o.name === name).map((o) => o.value);
}

/** Why `value` is not a well-formed unit file (untrusted JSON), or `undefined`. */
export function unitFileProblem(value: unknown): string | undefined {
  if (!Array.isArray(value)) return 'options must be an array';
  for (const [i, o] of value.entries()) {
    if (typeof o !== 'object' || o === null) return `options[${i}] must be an object`;
    for (const field of ['section', 'name', 'value'] as const) {
      if (typeof (o as Record<string, unknown>)[field] !== 'string') return `options[${i}].${field} must be a string`;
    }
    const { section, name } = o as UnitOption;
    if (section === '' || /[\]\n]/.test(section)) return `options[${i}].section is not a valid section name`;
    if (name === '' || /[=\n]/.test(name)) return `options[${i}].name is not a valid option name`;
  }
  return undefined;
}
