import type { CorpusCase } from './corpus.js';

const x = (n: number, c = 'x'): string => c.repeat(n);
/** `n` short options of 47 bytes each (`K00=vvv...`): they move what follows along go-systemd's 4096-byte read buffer. */
const shortOptions = (n: number): string => Array.from({ length: n }, (_, i) => `K${String(i).padStart(2, '0')}=${x(42, 'v')}\n`).join('');

/**
 * The cases that would be awkward to commit as files (lines of thousands of bytes), made the same
 * way on every run. `ExecStart=` is 10 bytes, so `ExecStart=${x(2037)}` is a line of 2047 bytes.
 */
export function generatedCases(): CorpusCase[] {
  const cases: Record<string, string> = {
    'long-line-2047.service': `[Service]\nExecStart=${x(2037)}\nExecStop=/bin/true\n`,
    'long-line-2048.service': `[Service]\nExecStart=${x(2038)}\nExecStop=/bin/true\n`,
    'long-line-2047-at-eof.service': `[Service]\nExecStart=${x(2037)}`,
    'long-line-2048-at-eof.service': `[Service]\nExecStart=${x(2038)}`,
    'long-line-5000.service': `[Service]\nExecStart=${x(4990)}\n`,
    'long-line-in-2048-bytes-of-utf8.service': `[Service]\nExecStart=${x(1019, 'é')}\n`,
    'long-line-continued-over-two-lines.service': `[Service]\nExecStart=${x(1500)} \\\n${x(1500, 'y')}\n`,
    'long-line-continuation-line-2048.service': `[Service]\nExecStart=a \\\n${x(2048)}\n`,
    'long-line-option-name.service': `[Service]\n${x(2100)}=/bin/true\n`,
    'long-line-first-line-comment.service': `${x(2048, '#')}\n[Service]\nExecStart=/bin/true\n`,
    'long-line-second-line-comment.service': `\n${x(2048, '#')}\n[Service]\nExecStart=/bin/true\n`,
    'long-line-swallowed-by-comment.service': `[Service]\n# c \\\n${x(3000)}\nExecStart=/bin/true\n`,
    'long-line-cr-breaks-it.service': `[Service]\nExecStart=${x(1500)}\r${x(1500, 'y')}\n`,
    // Past the first 4096 bytes go-systemd only checks while 2048 bytes are left in its buffer.
    'long-line-where-the-buffer-skips-the-check.service': `[Service]\n${shortOptions(70)}ExecStart=${x(3000)}\n`,
    'long-line-where-the-buffer-checks.service': `[Service]\n${shortOptions(30)}ExecStart=${x(3000)}\n`,
    'long-line-moved-by-serialising.service': `[Service]\n${'# comment\n'.repeat(320)}ExecStart=${x(3000)}\n`,
    'many-options.service': `[Service]\nExecStart=/bin/true\n${shortOptions(99)}${shortOptions(99)}`,
  };
  return Object.entries(cases).map(([name, text]) => ({ name, bytes: Buffer.from(text, 'utf8') }));
}
