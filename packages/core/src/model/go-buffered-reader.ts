/**
 * The read position and buffer window of Go's `bufio.Reader` (4096 bytes) over an in-memory
 * source (`strings.Reader`), reproduced byte for byte. go-systemd's unit-file lexer checks line
 * lengths only while at least 2048 bytes sit in that buffer, so whether a long line is refused
 * depends on where the buffer happens to end; this class makes the same decisions.
 *
 * Only what the lexer uses is modelled: `ReadRune`, `UnreadRune`, `ReadBytes`, `Buffered`. Bytes
 * are read from `src`; the buffer is the window `[pos, end)` of it.
 */
export class GoBufferedReader {
  static readonly size = 4096;
  readonly src: Buffer;
  /** Source offset of the next unread byte (`b.r`). */
  pos = 0;
  /** Source offset just past the buffered bytes (`b.w`). */
  #end = 0;
  /** The source reported EOF to the last fill (`b.err`). */
  #eof = false;
  #lastRuneSize = -1;

  constructor(src: Buffer) {
    this.src = src;
  }

  /** `Buffered()`: bytes read from the source but not yet consumed. */
  buffered(): number {
    return this.#end - this.pos;
  }

  /** `ReadRune`: the next code point (`0xfffd` for a byte that starts no valid UTF-8), or `undefined` at EOF. */
  readRune(): number | undefined {
    while (this.pos + 4 > this.#end && !fullRune(this.src, this.pos, this.#end) && !this.#eof && this.buffered() < GoBufferedReader.size) this.#fill();
    this.#lastRuneSize = -1;
    if (this.pos === this.#end) return undefined;
    const { rune, size } = decodeRune(this.src, this.pos, this.#end);
    this.pos += size;
    this.#lastRuneSize = size;
    return rune;
  }

  /** `UnreadRune` right after a `readRune` that returned a rune. */
  unreadRune(): void {
    if (this.#lastRuneSize > 0) this.pos -= this.#lastRuneSize;
    this.#lastRuneSize = -1;
  }

  /**
   * `ReadBytes(delim)`: consumes up to and including the next `delim`, or to the end of the source.
   * Returns the source range read and whether the end came first.
   */
  readBytes(delim: number): { start: number; end: number; eof: boolean } {
    const start = this.pos;
    this.#lastRuneSize = -1;
    let from = this.pos;
    for (;;) {
      const at = this.src.subarray(from, this.#end).indexOf(delim);
      if (at !== -1) {
        this.pos = from + at + 1;
        return { start, end: this.pos, eof: false };
      }
      if (this.#eof) {
        this.pos = this.#end;
        return { start, end: this.pos, eof: true };
      }
      if (this.buffered() >= GoBufferedReader.size) {
        // ErrBufferFull: ReadBytes keeps the full buffer and reads on from an empty one.
        this.pos = this.#end;
      }
      from = this.#end;
      this.#fill();
    }
  }

  /** `fill`: slide the unread bytes to the front and read as much as fits. */
  #fill(): void {
    if (this.#end >= this.src.length) {
      this.#eof = true;
      return;
    }
    this.#end = Math.min(this.src.length, this.pos + GoBufferedReader.size);
  }
}

/** Go's `utf8.DecodeRune` over `src[at, end)`: an invalid or truncated sequence is U+FFFD of width 1. */
export function decodeRune(src: Buffer, at: number, end: number): { rune: number; size: number } {
  const b0 = src[at] ?? 0;
  if (b0 < 0x80) return { rune: b0, size: 1 };
  const size = sequenceLength(b0);
  if (size === 0 || end - at < size) return invalid;
  const b1 = src[at + 1] ?? 0;
  const [lo, hi] = secondByteRange(b0);
  if (b1 < lo || b1 > hi) return invalid;
  let rune = b0 & (size === 2 ? 0x1f : size === 3 ? 0x0f : 0x07);
  rune = (rune << 6) | (b1 & 0x3f);
  for (let i = 2; i < size; i++) {
    const b = src[at + i] ?? 0;
    if (b < 0x80 || b > 0xbf) return invalid;
    rune = (rune << 6) | (b & 0x3f);
  }
  return { rune, size };
}

/**
 * The text of `src[start, end)` as Go hands it on: valid UTF-8 unchanged, and every byte that
 * starts no valid sequence replaced by U+FFFD (as Go's JSON encoder does on the way to the API).
 */
export function goText(src: Buffer, start: number, end: number): string {
  let ascii = true;
  for (let i = start; i < end; i++) if ((src[i] ?? 0) >= 0x80) ascii = false;
  if (ascii) return src.toString('latin1', start, end);
  let out = '';
  for (let i = start; i < end;) {
    const { rune, size } = decodeRune(src, i, end);
    out += String.fromCodePoint(rune);
    i += size;
  }
  return out;
}

const invalid = { rune: 0xfffd, size: 1 } as const;

/** Length of the sequence a lead byte starts, 0 when it starts none (Go's `first` table). */
function sequenceLength(b0: number): number {
  if (b0 >= 0xc2 && b0 <= 0xdf) return 2;
  if (b0 >= 0xe0 && b0 <= 0xef) return 3;
  if (b0 >= 0xf0 && b0 <= 0xf4) return 4;
  return 0;
}

/** Go's `acceptRanges`: the second byte excludes overlong forms, surrogates and code points past U+10FFFF. */
function secondByteRange(b0: number): readonly [number, number] {
  if (b0 === 0xe0) return [0xa0, 0xbf];
  if (b0 === 0xed) return [0x80, 0x9f];
  if (b0 === 0xf0) return [0x90, 0xbf];
  if (b0 === 0xf4) return [0x80, 0x8f];
  return [0x80, 0xbf];
}

/** Go's `utf8.FullRune` over `src[at, end)`: whether the bytes hold a whole rune or a certain error. */
function fullRune(src: Buffer, at: number, end: number): boolean {
  const n = end - at;
  if (n === 0) return false;
  const b0 = src[at] ?? 0;
  const size = b0 < 0x80 ? 1 : sequenceLength(b0);
  if (size === 0 || n >= size) return true;
  const [lo, hi] = secondByteRange(b0);
  if (n > 1) {
    const b1 = src[at + 1] ?? 0;
    if (b1 < lo || b1 > hi) return true;
  }
  if (n > 2) {
    const b2 = src[at + 2] ?? 0;
    if (b2 < 0x80 || b2 > 0xbf) return true;
  }
  return false;
}
