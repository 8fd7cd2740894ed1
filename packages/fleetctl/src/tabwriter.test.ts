import { describe, expect, it } from 'vitest';
import { formatTabbed } from './tabwriter.js';

describe('formatTabbed (Go text/tabwriter with padchar TAB)', () => {
  it("reproduces Go's documented example (minwidth 0, tabwidth 8, padding 0)", () => {
    const rows = [
      ['a', 'b', 'c', 'd', '.'],
      ['123', '12345', '1234567', '123456789', '.'],
    ];
    expect(formatTabbed(rows, { tabWidth: 8, padding: 0 })).toBe('a\tb\tc\td\t\t.\n123\t12345\t1234567\t123456789\t.\n');
  });

  it.each([
    ['a cell shorter than the tab stop gets one tab', [['ab', 'x'], ['abc', 'y']], 'ab\tx\nabc\ty\n'],
    ['a 7-character column plus padding still fits one tab stop', [['1234567', 'x'], ['a', 'y']], '1234567\tx\na\ty\n'],
    ['an 8-character cell needs a 16-wide column', [['12345678', 'x'], ['', 'y']], '12345678\tx\n\t\ty\n'],
    ['the last cell is never padded', [['a', 'long last cell'], ['b', 'c']], 'a\tlong last cell\nb\tc\n'],
    ['a single column has no tabs', [['UNIT'], ['hello.service']], 'UNIT\nhello.service\n'],
    ['widths count characters, not bytes', [['éééééééé', 'x'], ['a', 'y']], 'éééééééé\tx\na\t\ty\n'],
  ])('%s', (_name, rows, expected) => {
    expect(formatTabbed(rows)).toBe(expected);
  });

  it('prints nothing for no rows', () => {
    expect(formatTabbed([])).toBe('');
  });
});
