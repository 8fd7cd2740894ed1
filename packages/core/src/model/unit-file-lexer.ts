import { InvalidUnitFileError } from '../errors.js';
import { GoBufferedReader, goText } from './go-buffered-reader.js';
import type { UnitOption } from './unit-file.js';

/**
 * go-systemd's `SYSTEMD_LINE_MAX`: a physical line of this many bytes or more (line break not
 * counted; CR and LF both break a line) is an error, where the lexer checks (see {@link lexUnitFile}).
 */
export const maxUnitFileLineBytes = 2048;

/** A step of go-systemd's state-machine lexer: consumes some input and returns the next step. */
type Step = () => Step | undefined;

const lf = 0x0a;
const cr = 0x0d;

/**
 * A port of go-systemd's unit-file lexer (as fleet v1.0 vendored it) over the UTF-8 bytes of a
 * file. It keeps the original's steps and its 4096-byte read buffer ({@link GoBufferedReader})
 * because the line-length check runs between steps, and only while 2048 bytes or more are
 * buffered: where it runs depends on both. Throws {@link InvalidUnitFileError}.
 */
export function lexUnitFile(src: Buffer): UnitOption[] {
  return new UnitFileLexer(src).run();
}

class UnitFileLexer {
  readonly #in: GoBufferedReader;
  readonly #src: Buffer;
  readonly #options: UnitOption[] = [];
  /** The first CR or LF at or after the last checked position (-1: none; `undefined`: not looked yet). Keeps the check O(n). */
  #breakAt: number | undefined;

  constructor(src: Buffer) {
    this.#src = src;
    this.#in = new GoBufferedReader(src);
  }

  run(): UnitOption[] {
    let next: Step | undefined = () => this.#nextSection();
    while (next !== undefined) {
      this.#checkLineLength();
      next = next();
    }
    return this.#options;
  }

  /** go-systemd peeks at the next 2048 bytes when at least that many are buffered: one must break the line. */
  #checkLineLength(): void {
    if (this.#in.buffered() < maxUnitFileLineBytes) return;
    const pos = this.#in.pos;
    // The read position only moves forward: the cached break stays valid until we pass it.
    if (this.#breakAt === undefined || (this.#breakAt !== -1 && pos > this.#breakAt)) this.#breakAt = this.#indexOfLineBreak(pos);
    if (this.#breakAt === -1 || this.#breakAt - pos >= maxUnitFileLineBytes) {
      throw this.#error(`line too long (max ${maxUnitFileLineBytes} bytes)`, pos);
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
    const at = this.#in.pos;
    const rune = this.#in.readRune();
    if (rune === undefined) return undefined;
    if (rune === 0x5b /* [ */) return () => this.#sectionName(at);
    if (isComment(rune)) return this.#ignoreLine(() => this.#nextSection());
    return () => this.#nextSection();
  }

  /** After `[`: the section name runs to the next `]`, across line breaks if need be. */
  #sectionName(headerAt: number): Step {
    const { start, end, eof } = this.#in.readBytes(0x5d /* ] */);
    if (eof) throw this.#error('unable to find end of section (no "]")', headerAt);
    const section = goText(this.#src, start, end - 1);
    return () => this.#sectionSuffix(section);
  }

  #sectionSuffix(section: string): Step {
    const at = this.#in.pos;
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
    const at = this.#in.pos;
    const rune = this.#in.readRune();
    if (rune === undefined) return undefined;
    if (isGoSpace(rune)) return () => this.#nextSectionOrOption(section);
    if (rune === 0x5b /* [ */) return () => this.#sectionName(at);
    if (isComment(rune)) return this.#ignoreLine(() => this.#nextSectionOrOption(section));
    this.#in.unreadRune();
    return () => this.#optionName(section);
  }

  #optionName(section: string): Step {
    const start = this.#in.pos;
    let name = '';
    for (;;) {
      const rune = this.#in.readRune();
      if (rune === undefined) throw this.#error('unexpected end of file in an option name (expected "Name=Value")', start);
      if (rune === lf || rune === cr) throw this.#error('unexpected line break in an option name (expected "Name=Value")', start);
      if (rune === 0x3d /* = */) break;
      name += String.fromCodePoint(rune);
    }
    const trimmed = goTrimSpace(name);
    return () => this.#optionValue(section, trimmed, '');
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
    const { start, end, eof } = this.#in.readBytes(lf);
    let last = eof ? end : end - 1;
    if (eof && last > start && this.#src[last - 1] === cr) last--;
    return { line: goText(this.#src, start, last), eof };
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
export function goTrimSpace(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isGoSpace(text.charCodeAt(start))) start++;
  while (end > start && isGoSpace(text.charCodeAt(end - 1))) end--;
  return text.slice(start, end);
}
