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

/**
 * go-systemd's `SYSTEMD_LINE_MAX`: a physical line of this many bytes or more (line break not
 * counted; CR and LF both break a line) is an error.
 */
export const maxUnitFileLineBytes = 2048;

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
 * - A line of {@link maxUnitFileLineBytes} bytes or more is an error ("line too long"). Like
 *   go-systemd, the check runs where the lexer starts a step, which is the start of every line it
 *   reads on its own (not the first byte of the file, not lines swallowed by a comment continuation
 *   or inside `[...]`). go-systemd skips the check when fewer than 2048 bytes happen to sit in its
 *   4096-byte read buffer, which only happens in files larger than that; here it always runs.
 *
 * Whitespace is Go's `unicode.IsSpace` (which, unlike JavaScript's `trim`, includes U+0085 and
 * excludes U+FEFF). Throws {@link InvalidUnitFileError} with the 1-based line of the problem.
 */
export function parseUnitFile(text: string): UnitFile {
  return new UnitFileLexer(Buffer.from(text, 'utf8')).run();
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

/** The unit hash: SHA1 (hex) of the UTF-8 bytes of {@link serializeUnitFile}, as fleet's `UnitFile.Hash()`. */
export function hashUnitFile(file: UnitFile): string {
  return createHash('sha1').update(serializeUnitFile(file), 'utf8').digest('hex');
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

/** A step of go-systemd's state-machine lexer: consumes some input and returns the next step. */
type Step = () => Step | undefined;

const lf = 0x0a;
const cr = 0x0d;

/**
 * A port of go-systemd's lexer over the UTF-8 bytes of the text. It keeps the original's steps
 * because the line-length check runs between steps, and so where it runs depends on them.
 */
class UnitFileLexer {
  readonly #src: Buffer;
  readonly #options: UnitOption[] = [];
  #pos = 0;
  /** The first CR or LF at or after the last checked position (-1: none; `undefined`: not looked yet). Keeps the check O(n). */
  #breakAt: number | undefined;

  constructor(src: Buffer) {
    this.#src = src;
  }

  run(): UnitOption[] {
    let next: Step | undefined = () => this.#nextSection();
    // go-systemd checks only when 2048 bytes are buffered, and before the first step none are.
    let first = true;
    while (next !== undefined) {
      if (!first) this.#checkLineLength();
      first = false;
      next = next();
    }
    return this.#options;
  }

  #checkLineLength(): void {
    if (this.#src.length - this.#pos < maxUnitFileLineBytes) return;
    // The read position only moves forward: the cached break stays valid until we pass it.
    if (this.#breakAt === undefined || (this.#breakAt !== -1 && this.#pos > this.#breakAt)) this.#breakAt = this.#indexOfLineBreak(this.#pos);
    if (this.#breakAt === -1 || this.#breakAt - this.#pos >= maxUnitFileLineBytes) {
      throw this.#error(`line too long (max ${maxUnitFileLineBytes} bytes)`, this.#pos);
    }
  }

  #indexOfLineBreak(from: number): number {
    for (let i = from; i < this.#src.length; i++) {
      const byte = this.#src[i];
      if (byte === lf || byte === cr) return i;
    }
    return -1;
  }

  /** Before the first section: skip runes until `[` or a comment. */
  #nextSection(): Step | undefined {
    const rune = this.#readRune();
    if (rune === undefined) return undefined;
    if (rune === 0x5b /* [ */) {
      const headerAt = this.#pos - 1;
      return () => this.#sectionName(headerAt);
    }
    if (isComment(rune)) return this.#ignoreLine(() => this.#nextSection());
    return () => this.#nextSection();
  }

  /** After `[`: the section name runs to the next `]`, across line breaks if need be. */
  #sectionName(headerAt: number): Step {
    const close = this.#src.indexOf(0x5d /* ] */, this.#pos);
    if (close === -1) throw this.#error('unable to find end of section (no "]")', headerAt);
    const section = this.#text(this.#pos, close);
    this.#pos = close + 1;
    return () => this.#sectionSuffix(section);
  }

  #sectionSuffix(section: string): Step {
    const at = this.#pos;
    const garbage = goTrimSpace(this.#toEndOfLine().line);
    if (garbage !== '') throw this.#error(`found garbage after section name [${section}]: ${JSON.stringify(garbage)}`, at);
    return () => this.#nextSectionOrOption(section);
  }

  /** Consumes the rest of the comment line, and the next line while a line ends in `\`. */
  #ignoreLine(next: Step): Step {
    return () => {
      for (;;) {
        let { line } = this.#toEndOfLine();
        if (line.endsWith(' ')) line = line.slice(0, -1); // go-systemd drops exactly one trailing space
        if (!line.endsWith('\\')) break;
      }
      return next;
    };
  }

  #nextSectionOrOption(section: string): Step | undefined {
    const start = this.#pos;
    const rune = this.#readRune();
    if (rune === undefined) return undefined;
    if (isGoSpace(rune)) return () => this.#nextSectionOrOption(section);
    if (rune === 0x5b /* [ */) return () => this.#sectionName(start);
    if (isComment(rune)) return this.#ignoreLine(() => this.#nextSectionOrOption(section));
    this.#pos = start; // unread
    return () => this.#optionName(section);
  }

  #optionName(section: string): Step {
    const start = this.#pos;
    for (;;) {
      const rune = this.#readRune();
      if (rune === undefined) throw this.#error('unexpected end of file in an option name (expected "Name=Value")', start);
      if (rune === lf || rune === cr) throw this.#error('unexpected line break in an option name (expected "Name=Value")', start);
      if (rune === 0x3d /* = */) break;
    }
    const name = goTrimSpace(this.#text(start, this.#pos - 1));
    return () => this.#optionValue(section, name, '');
  }

  /** One physical line of a value per step; `partial` holds the lines read so far, joined by `\n`. */
  #optionValue(section: string, name: string, partial: string): Step {
    const { line, eof } = this.#toEndOfLine();
    if (goTrimSpace(line) !== '') {
      partial += line;
      if (line.endsWith('\\')) {
        if (!eof) partial += '\n';
        const sofar = partial;
        return () => this.#optionValue(section, name, sofar);
      }
    }
    // A continued value that ended at a blank line keeps its last line break.
    const value = partial.endsWith('\n') ? `${goTrimSpace(partial)}\n` : goTrimSpace(partial);
    this.#options.push({ section, name, value });
    return () => this.#nextSectionOrOption(section);
  }

  /** go-systemd's `toEOL`: up to and including the next LF; drops a final CR (only at EOF) and the LF. */
  #toEndOfLine(): { line: string; eof: boolean } {
    const newline = this.#src.indexOf(lf, this.#pos);
    const eof = newline === -1;
    const end = eof ? this.#src.length : newline;
    const start = this.#pos;
    this.#pos = eof ? end : end + 1;
    const trimmedEnd = eof && end > start && this.#src[end - 1] === cr ? end - 1 : end;
    return { line: this.#text(start, trimmedEnd), eof };
  }

  /** The code point at the read position (advancing past it), or `undefined` at the end. */
  #readRune(): number | undefined {
    if (this.#pos >= this.#src.length) return undefined;
    const lead = this.#src[this.#pos] ?? 0;
    const size = lead < 0x80 ? 1 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
    const rune = size === 1 ? lead : (this.#text(this.#pos, this.#pos + size).codePointAt(0) ?? 0xfffd);
    this.#pos += size;
    return rune;
  }

  #text(start: number, end: number): string {
    return this.#src.toString('utf8', start, end);
  }

  #error(reason: string, at: number): InvalidUnitFileError {
    let line = 1;
    for (let i = 0; i < at && i < this.#src.length; i++) if (this.#src[i] === lf) line++;
    return new InvalidUnitFileError(reason, line);
  }
}

function isComment(rune: number): boolean {
  return rune === 0x23 /* # */ || rune === 0x3b /* ; */;
}

/** Go's `unicode.IsSpace`. */
function isGoSpace(rune: number): boolean {
  if (rune <= 0xff) return (rune >= 0x09 && rune <= 0x0d) || rune === 0x20 || rune === 0x85 || rune === 0xa0;
  return rune === 0x1680 || (rune >= 0x2000 && rune <= 0x200a) || rune === 0x2028 || rune === 0x2029 || rune === 0x202f || rune === 0x205f || rune === 0x3000;
}

/** Go's `strings.TrimSpace` (every space character is in the BMP, so UTF-16 units suffice). */
function goTrimSpace(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isGoSpace(text.charCodeAt(start))) start++;
  while (end > start && isGoSpace(text.charCodeAt(end - 1))) end--;
  return text.slice(start, end);
}
