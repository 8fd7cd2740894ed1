import { InvalidUnitFileError } from '../errors.js';
import { lexUnitFile, maxUnitFileLineBytes } from './unit-file-lexer.js';

export { maxUnitFileLineBytes };

/** One `Name=Value` line of a unit file, with the section it belongs to. Wire format of fleet's API. */
export interface UnitOption {
  readonly section: string;
  readonly name: string;
  readonly value: string;
}

/** A unit file as fleet keeps it: an ordered list of options; repeated names are kept. */
export type UnitFile = readonly UnitOption[];

/**
 * Parses unit-file text exactly as fleet does (the go-systemd `unit.Deserialize` that fleet v1.0
 * vendored), so that options and hashes agree with fleet's:
 *
 * - Before the first section every character is skipped, except that `[` anywhere opens a section and
 *   `#`/`;` anywhere skips the rest of its line.
 * - `[Name]` opens a section; the name is the text up to the next `]` (untrimmed, may be empty) and
 *   anything but whitespace after the `]` on that line is an error.
 * - Inside a section, whitespace (also whole blank lines) is skipped; `#`/`;` starts a comment line.
 *   A comment line ending in `\` (after one trailing space is dropped) swallows the next line too.
 * - An option is `Name=Value`: the name is the text before the first `=`, trimmed; a line break or
 *   the end of the file before `=` is an error. The value is the rest of the line, trimmed.
 * - A value line ending in `\` (the very last byte) continues on the next line; the backslash, the
 *   line break and the next line (its leading whitespace included) are KEPT in the value. An empty
 *   or blank line ends the value; the line break before it is then kept at the value's end.
 * - Only LF ends a line. With CRLF the CR stays part of the line: it is trimmed off values like any
 *   whitespace, but a `\` before it does not continue the value, and a CR in a name is an error.
 * - Repeated names are separate options, in file order.
 * - A line of {@link maxUnitFileLineBytes} bytes or more is an error ("line too long"), where
 *   go-systemd checks: where its lexer starts a step (the start of every line it reads on its own,
 *   not the first byte of the file, not lines swallowed by a comment continuation or inside
 *   `[...]`), and only while 2048 bytes or more sit in its 4096-byte read buffer. In a file of more
 *   than 4096 bytes a long line can therefore pass or fail depending on where it lies; the buffer
 *   is reproduced byte for byte, so the same lines pass as in fleet.
 * - Bytes that are not valid UTF-8 become U+FFFD, one per byte, as they reach fleet's API.
 *
 * Whitespace is Go's `unicode.IsSpace` (which, unlike JavaScript's `trim`, includes U+0085 and
 * excludes U+FEFF). Throws {@link InvalidUnitFileError} with the 1-based line of the problem.
 */
export function parseUnitFile(text: string | Buffer): UnitFile {
  return lexUnitFile(typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
}

/**
 * Serialises options as go-systemd's `unit.Serialize` (fleet v1.0) does: sections in order of first
 * appearance, each section's options grouped under one `[Section]` line in their given order, every
 * line ending in `\n`, one blank line between sections and none at the end. No options: `''`.
 * Names and values are written verbatim (nothing is escaped or validated).
 */
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

/**
 * The options fleet hands back for a unit submitted with `file`: fleet stores a unit as its
 * serialised text and parses that text again whenever it reads the unit, so the API, `fleetctl
 * cat` and the hash `fleetctl list-unit-files` shows all see `parse(serialize(file))`. Mostly that
 * is `file` with each section's options grouped together, but a value can change: one ending in
 * `\` at the end of the file (no line break after it) gains a line break, and one whose line ended
 * in `\` followed by spaces or a CR (so that it did not continue) continues over the next line once
 * stored, swallowing the option written there. Throws {@link InvalidUnitFileError} when the
 * serialised text does not parse ({@link unitFileProblem} reports that first). Pure.
 */
export function storedUnitFile(file: UnitFile): UnitFile {
  return parseUnitFile(serializeUnitFile(file));
}

/** The unit hash: SHA1 (hex) of the UTF-8 bytes of {@link serializeUnitFile}, as fleet's `UnitFile.Hash()`. */
export function hashUnitFile(file: UnitFile): string {
  // node:crypto is loaded on the first hash, not at start-up (about 6 ms of every fleetctl command).
  return process.getBuiltinModule('node:crypto').createHash('sha1').update(serializeUnitFile(file), 'utf8').digest('hex');
}

/** Values of `section`/`name` in file order. */
export function optionValues(file: UnitFile, section: string, name: string): string[] {
  return file.filter((o) => o.section === section && o.name === name).map((o) => o.value);
}

/**
 * True when the file has an `[Install]` section with at least one option: fleet then enables the unit
 * (systemd `EnableUnitFiles`) instead of only linking it. An empty `[Install]` header leaves no option
 * behind, so it does not count (as in fleet).
 */
export function hasInstallSection(file: UnitFile): boolean {
  return file.some((o) => o.section === 'Install');
}

/**
 * Why `value` is not a unit file fleet's API would accept, or `undefined`. For untrusted JSON: it must
 * be an array of `{section, name, value}` strings; a section may not contain `]` and a name may not
 * contain `=`, CR or LF (no parsed file has those); and, as fleet's API checks with
 * `Deserialize(Serialize(options))`, the serialised form must parse (e.g. no line of 2048 bytes or more).
 */
export function unitFileProblem(value: unknown): string | undefined {
  if (!Array.isArray(value)) return 'options must be an array';
  for (const [i, o] of value.entries()) {
    if (typeof o !== 'object' || o === null) return `options[${i}] must be an object`;
    for (const field of ['section', 'name', 'value'] as const) {
      if (typeof (o as Record<string, unknown>)[field] !== 'string') return `options[${i}].${field} must be a string`;
    }
    const { section, name } = o as UnitOption;
    if (section.includes(']')) return `options[${i}].section is not a valid section name`;
    if (/[=\r\n]/.test(name)) return `options[${i}].name is not a valid option name`;
  }
  try {
    parseUnitFile(serializeUnitFile(value as UnitFile));
  } catch (err) {
    if (err instanceof InvalidUnitFileError) return `the serialised unit file does not parse: ${err.message}`;
    throw err;
  }
  return undefined;
}
