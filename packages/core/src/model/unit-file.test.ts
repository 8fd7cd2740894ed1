import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InvalidUnitFileError } from '../errors.js';
import { hasInstallSection, hashUnitFile, parseUnitFile, serializeUnitFile, storedUnitFile, unitFileProblem, type UnitFile, type UnitOption } from './unit-file.js';

// Expected values follow go-systemd's `unit.Deserialize`/`Serialize` as fleet v1.0 vendored them; every
// parse case below was also run through that Go code (2015 version, PR #101 + #108) and agrees.

const o = (section: string, name: string, value: string): UnitOption => ({ section, name, value });
const x = (n: number, c = 'x'): string => c.repeat(n);
/** `n` lines of 47 bytes each: `K00=vvv...`. */
const shortOptions = (n: number): string => Array.from({ length: n }, (_, i) => `K${String(i).padStart(2, '0')}=${x(42, 'v')}\n`).join('');

function parseError(text: string): InvalidUnitFileError {
  try {
    parseUnitFile(text);
  } catch (err) {
    if (err instanceof InvalidUnitFileError) return err;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(text.slice(0, 80))} not to parse`);
}

type ParseCase = readonly [rule: string, text: string, expected: readonly UnitOption[]];

describe('parseUnitFile', () => {
  describe('text before the first section', () => {
    it.each<ParseCase>([
      ['is skipped, options included', 'junk\nDescription=Foo\n[Unit]\nA=b\n', [o('Unit', 'A', 'b')]],
      ['is skipped character by character: a "[" anywhere opens a section', 'see [docs]\nA=b\n', [o('docs', 'A', 'b')]],
      ['a "#" comments out the rest of its line', '# [Unit]\n[Service]\nA=b\n', [o('Service', 'A', 'b')]],
      ['a "#" anywhere comments out the rest of its line', 'x # [Unit]\n[Service]\nA=b', [o('Service', 'A', 'b')]],
      ['a ";" comment too', '; [Unit]\n[Service]\nA=b\n', [o('Service', 'A', 'b')]],
      ['a comment ending in "\\" swallows the next line', '# c \\\n[Unit]\nA=b\n[Service]\nB=c\n', [o('Service', 'B', 'c')]],
      ['leading whitespace before the first header', '  \n\t[Unit]\nA=b', [o('Unit', 'A', 'b')]],
      ['no section at all: no options', 'A=b\nC=d\n', []],
      ['an empty file: no options', '', []],
    ])('%s', (_rule, text, expected) => {
      expect(parseUnitFile(text)).toEqual(expected);
    });
  });

  describe('section headers', () => {
    it.each<ParseCase>([
      ['whitespace after "]" is fine', '[Unit]  \t\nA=b', [o('Unit', 'A', 'b')]],
      ['a CR after "]" is whitespace (CRLF files)', '[Unit]\r\nA=b\r\n', [o('Unit', 'A', 'b')]],
      ['the name is not trimmed', '[ Unit ]\nA=b', [o(' Unit ', 'A', 'b')]],
      ['the name may be empty', '[]\nA=b', [o('', 'A', 'b')]],
      ['the name runs to the next "]", across a line break', '[Un\nit]\nA=b', [o('Un\nit', 'A', 'b')]],
      ['indented headers inside a section', '[A]\n  [B]\nx=y', [o('B', 'x', 'y')]],
      ['a header with no options adds nothing', '[Unit]\n[Service]\n[X-Third-Party]\n', []],
      ['UTF-8 is preserved', '[©]\nµ☃=ÇôrèÕ$', [o('©', 'µ☃', 'ÇôrèÕ$')]],
    ])('%s', (_rule, text, expected) => {
      expect(parseUnitFile(text)).toEqual(expected);
    });

    it.each([
      ['[Unit] pants\nDescription=Foo\n', 1, /garbage after section name \[Unit\]: "pants"/],
      ['[Unit]\nA=b\n[Service]]\n', 3, /garbage after section name \[Service\]: "\]"/],
      ['[Unit]\nA=b\n[Unit\nDescription=Foo\n', 3, /unable to find end of section/],
    ])('rejects %j at line %i', (text, line, message) => {
      const error = parseError(text);
      expect(error.line).toBe(line);
      expect(error.message).toMatch(message);
      expect(error.message).toContain(`line ${line}:`);
    });
  });

  describe('blank lines and comments inside a section', () => {
    it.each<ParseCase>([
      ['blank and whitespace-only lines are skipped', '[Unit]\n\n   \n\t\nA=b\n\n', [o('Unit', 'A', 'b')]],
      ['"#" and ";" lines are skipped, also indented', '[Unit]\n;c\n  ; c\n\t# c\n#Description=Foo\nB=c\n', [o('Unit', 'B', 'c')]],
      ['"#" after a value is part of the value', '[Unit]\nA=b # not a comment\n', [o('Unit', 'A', 'b # not a comment')]],
      ['a comment ending in "\\" swallows the next line', '[Unit]\n# c \\\nA=b\nB=c\n', [o('Unit', 'B', 'c')]],
      ['... also after exactly one trailing space', '[Unit]\n# c \\ \nA=b\n', []],
      ['... but not after two', '[Unit]\n# c \\  \nA=b\n', [o('Unit', 'A', 'b')]],
    ])('%s', (_rule, text, expected) => {
      expect(parseUnitFile(text)).toEqual(expected);
    });
  });

  describe('option names', () => {
    it.each<ParseCase>([
      ['the name is trimmed', '[Unit]\n Description   =words here\n', [o('Unit', 'Description', 'words here')]],
      ['names may contain spaces', '[Unit]\nSome Thing = Bar\n', [o('Unit', 'Some Thing', 'Bar')]],
      ['anything before the first "=" is a name', '[Service]\nExecStart=jim\n<<<<<<<<<<<=bar\n', [o('Service', 'ExecStart', 'jim'), o('Service', '<<<<<<<<<<<', 'bar')]],
      ['the name may be empty', '[Unit]\n=value\n', [o('Unit', '', 'value')]],
      ['the value may contain "="', '[X-Fleet]\nMachineMetadata=foo=bar\n', [o('X-Fleet', 'MachineMetadata', 'foo=bar')]],
      ['repeated names are kept in order', '[Service]\nExecStartPre=-/bin/a\nExecStartPre=-/bin/b\n', [o('Service', 'ExecStartPre', '-/bin/a'), o('Service', 'ExecStartPre', '-/bin/b')]],
    ])('%s', (_rule, text, expected) => {
      expect(parseUnitFile(text)).toEqual(expected);
    });

    it.each([
      ['[Unit]\nDescription\n', 2, /line break in an option name/],
      ['[Unit]\nA=b\nnonsense upon stilts\n', 3, /line break in an option name/],
      ['\n[Unit]\n\n[Service]\n<<<<<<<<<<<<<<<<\n', 5, /line break in an option name/],
      ['[Unit]\nA\r\n=b', 2, /line break in an option name/],
      ['[Unit]\nDescription', 2, /end of file in an option name/],
    ])('rejects %j at line %i', (text, line, message) => {
      const error = parseError(text);
      expect(error.line).toBe(line);
      expect(error.message).toMatch(message);
    });
  });

  describe('values', () => {
    it.each<ParseCase>([
      ['the value is trimmed', '[Unit]\nDescription= words here ', [o('Unit', 'Description', 'words here')]],
      ['an empty value', '[Unit]\nA=\nB=   \n', [o('Unit', 'A', ''), o('Unit', 'B', '')]],
      ['trimming is Go\'s: U+0085 is space, U+FEFF is not', '[Unit]\nA=\u0085x\ufeff\n', [o('Unit', 'A', 'x\ufeff')]],
      ['quotes are not special', '[Service]\nEnvironment= "FOO=BAR" "BAZ=QUX"\n', [o('Service', 'Environment', '"FOO=BAR" "BAZ=QUX"')]],
      ['a trailing CR is trimmed (CRLF files)', '[Unit]\r\nA=b\r\nC=d\r', [o('Unit', 'A', 'b'), o('Unit', 'C', 'd')]],
    ])('%s', (_rule, text, expected) => {
      expect(parseUnitFile(text)).toEqual(expected);
    });
  });

  describe('bytes that are not UTF-8', () => {
    it.each<readonly [string, Buffer, readonly UnitOption[]]>([
      ['become U+FFFD one per byte in a value, as Go hands them on', Buffer.from('[Unit]\nA=\xe2\x82z \xff\n', 'latin1'), [o('Unit', 'A', '\ufffd\ufffdz \ufffd')]],
      ['and in a name', Buffer.from('[Unit]\n\xffA=b\n', 'latin1'), [o('Unit', '\ufffdA', 'b')]],
      ['a valid U+FFFD stays one character', Buffer.from('[Unit]\nA=\ufffd\n', 'utf8'), [o('Unit', 'A', '\ufffd')]],
    ])('%s', (_rule, bytes, expected) => {
      expect(parseUnitFile(bytes)).toEqual(expected);
    });
  });

  describe('line continuations', () => {
    it.each<ParseCase>([
      ['backslash and line break are kept, and the next line\'s indentation', '[Unit]\nDescription= Unnecessarily wrapped \\\n    words here\n', [o('Unit', 'Description', 'Unnecessarily wrapped \\\n    words here')]],
      ['whitespace before the backslash is kept', '[Unit]\nA=foo   \\\nbar\n', [o('Unit', 'A', 'foo   \\\nbar')]],
      ['comment-like lines inside a continuation are value', '[Unit]\nDescription=Bar\\\n# comment alpha\n\nDescription=Bar\\\n# comment bravo \\\nBaz\n', [o('Unit', 'Description', 'Bar\\\n# comment alpha'), o('Unit', 'Description', 'Bar\\\n# comment bravo \\\nBaz')]],
      ['a header-like line inside a continuation is value', '[Unit]\nA=x\\\n[Service]\nB=y', [o('Unit', 'A', 'x\\\n[Service]'), o('Unit', 'B', 'y')]],
      ['a backslash followed by text is no continuation', '[Service]\nExecStart=/bin/bash -c "while true; do echo \\"ping\\"; sleep 1; done"\n', [o('Service', 'ExecStart', '/bin/bash -c "while true; do echo \\"ping\\"; sleep 1; done"')]],
      ['a backslash followed by spaces is no continuation (spaces trimmed)', '[Unit]\nA=poof \\  \nB=c', [o('Unit', 'A', 'poof \\'), o('Unit', 'B', 'c')]],
      ['an empty line ends the value, whose last line break is kept', '[Unit]\nA=foo \\\n\nB=c', [o('Unit', 'A', 'foo \\\n'), o('Unit', 'B', 'c')]],
      ['... so does a whitespace-only line', '[Unit]\nDescription= words here \\\n  ', [o('Unit', 'Description', 'words here \\\n')]],
      ['... and the end of the file after a line break', '[Unit]\nA=Bar \\\n', [o('Unit', 'A', 'Bar \\\n')]],
      ['a backslash at the very end of the file is kept, no line break', '[Unit]\nDescription=Bar \\', [o('Unit', 'Description', 'Bar \\')]],
      ['with CRLF a backslash is no continuation (the CR follows it)', '[Unit]\r\nA=foo \\\r\nB=bar\r\n', [o('Unit', 'A', 'foo \\'), o('Unit', 'B', 'bar')]],
    ])('%s', (_rule, text, expected) => {
      expect(parseUnitFile(text)).toEqual(expected);
    });

    it("parses fleet's TestDeserializeEscapedMultilines as fleet v1.0 expects", () => {
      const text = '\n[Service]\nExecStart=echo \\\n  "pi\\\n  ng"\nExecStop=\\\necho "po\\\nng"\n# comments within continuation should not be ignored\nExecStopPre=echo\\\n#pang\nExecStopPost=echo\\\n#peng\\\npung\n';
      expect(parseUnitFile(text)).toEqual([
        o('Service', 'ExecStart', 'echo \\\n  "pi\\\n  ng"'),
        o('Service', 'ExecStop', '\\\necho "po\\\nng"'),
        o('Service', 'ExecStopPre', 'echo\\\n#pang'),
        o('Service', 'ExecStopPost', 'echo\\\n#peng\\\npung'),
      ]);
    });
  });

  describe('line length (2048 bytes)', () => {
    // "ExecStart=" is 10 bytes.
    it.each<ParseCase>([
      ['a line of 2047 bytes and its line break', `[Service]\nExecStart=${x(2037)}\nB=c\n`, [o('Service', 'ExecStart', x(2037)), o('Service', 'B', 'c')]],
      ['a last line of 2047 bytes without a line break', `[Service]\nExecStart=${x(2037)}`, [o('Service', 'ExecStart', x(2037))]],
      ['a CR breaks a line too', `[Unit]\nA=${x(1500)}\r${x(1500, 'y')}\n`, [o('Unit', 'A', `${x(1500)}\r${x(1500, 'y')}`)]],
      ['the limit is per physical line, not per continued value', `[Unit]\nA=${x(1500)}\\\n${x(1500, 'y')}\n`, [o('Unit', 'A', `${x(1500)}\\\n${x(1500, 'y')}`)]],
      ['lines swallowed by a comment continuation are not checked', `[Unit]\n# c \\\n${x(3000)}\nA=b\n`, [o('Unit', 'A', 'b')]],
      ['the first line of the file is checked from its second byte (go-systemd has nothing buffered yet)', `${x(2048, '#')}\n[Unit]\nA=b`, [o('Unit', 'A', 'b')]],
      // 10 + 70 * 47 + 10 = 3310 bytes precede the value: 786 of the first 4096 are left in the buffer.
      ['a long line while fewer than 2048 bytes are left in go-systemd\'s 4096-byte buffer', `[Service]\n${shortOptions(70)}ExecStart=${x(3000)}\n`,
        [...parseUnitFile(`[Service]\n${shortOptions(70)}`), o('Service', 'ExecStart', x(3000))]],
    ])('accepts %s', (_rule, text, expected) => {
      expect(parseUnitFile(text)).toEqual(expected);
    });

    it.each([
      ['a line of 2048 bytes and its line break', `[Service]\nExecStart=${x(2038)}\nB=c\n`, 2],
      ['a last line of 2048 bytes without a line break', `[Service]\nExecStart=${x(2038)}`, 2],
      ['2048 bytes in 1024 characters', `[Service]\nA=${x(1023, 'é')}\n`, 2],
      ['a long continuation line', `[Unit]\nA=b\\\n${x(2048)}\n`, 3],
      ['a long option name', `[Service]\n${x(2100)}=/bin/true\n`, 2],
      ['a long line before the first section', `\n${x(2048, '#')}\n[Unit]\nA=b`, 2],
      ['go-systemd\'s own case: a long arbitrary line', x(5000, 'a'), 1],
      ['a long line while 2048 bytes or more are left in the buffer', `[Service]\n${shortOptions(30)}ExecStart=${x(3000)}\n`, 32],
    ])('rejects %s', (_rule, text, line) => {
      const error = parseError(text);
      expect(error.message).toMatch(/line too long \(max 2048 bytes\)/);
      expect(error.line).toBe(line);
    });
  });

  it("parses fleet's TestDeserialize unit", () => {
    const text = '\nThis=Ignored\n[Unit]\n;ignore this guy\nDescription = Foo\n\n[Service]\nExecStart=echo "ping";\nExecStop=echo "pong"\n# ignore me, too\nExecStop=echo post\n\n[X-Fleet]\nMachineMetadata=foo=bar\nMachineMetadata=baz=qux\n';
    expect(parseUnitFile(text)).toEqual([
      o('Unit', 'Description', 'Foo'),
      o('Service', 'ExecStart', 'echo "ping";'),
      o('Service', 'ExecStop', 'echo "pong"'),
      o('Service', 'ExecStop', 'echo post'),
      o('X-Fleet', 'MachineMetadata', 'foo=bar'),
      o('X-Fleet', 'MachineMetadata', 'baz=qux'),
    ]);
  });

  it('throws InvalidUnitFileError with code INVALID_UNIT_FILE', () => {
    const error = parseError('[Unit]\nNoEquals\n');
    expect(error).toBeInstanceOf(InvalidUnitFileError);
    expect(error.code).toBe('INVALID_UNIT_FILE');
    expect(error.message).toBe('invalid unit file: line 2: unexpected line break in an option name (expected "Name=Value")');
  });
});

describe('serializeUnitFile', () => {
  it.each<readonly [rule: string, file: UnitFile, text: string]>([
    ['no options: an empty file', [], ''],
    ['options of a section share its header', [o('Unit', 'Description', 'Foo'), o('Unit', 'BindsTo', 'bar.service')], '[Unit]\nDescription=Foo\nBindsTo=bar.service\n'],
    ['repeated names are not combined', [o('Unit', 'Description', 'Foo'), o('Unit', 'Description', 'Bar')], '[Unit]\nDescription=Foo\nDescription=Bar\n'],
    ['one blank line between sections, none at the end', [o('Unit', 'Description', 'Foo'), o('Service', 'ExecStart', '/usr/bin/sleep infinity')], '[Unit]\nDescription=Foo\n\n[Service]\nExecStart=/usr/bin/sleep infinity\n'],
    [
      'sections in order of first appearance, options grouped under them',
      [o('Unit', 'Description', 'Foo'), o('Service', 'ExecStart', '/usr/bin/sleep infinity'), o('Unit', 'BindsTo', 'bar.service'), o('X-Foo', 'Bar', 'baz'), o('Service', 'ExecStop', '/usr/bin/sleep 1'), o('Unit', 'Documentation', 'https://foo.com')],
      '[Unit]\nDescription=Foo\nBindsTo=bar.service\nDocumentation=https://foo.com\n\n[Service]\nExecStart=/usr/bin/sleep infinity\nExecStop=/usr/bin/sleep 1\n\n[X-Foo]\nBar=baz\n',
    ],
    ['UTF-8 is written as is', [o('©', 'µ☃', 'ÇôrèÕ$')], '[©]\nµ☃=ÇôrèÕ$\n'],
    ['nothing is escaped', [o('Un\nit', 'Desc', 'Fo\no')], '[Un\nit]\nDesc=Fo\no\n'],
    ['a value ending in a line break leaves a blank line', [o('Unit', 'A', 'foo \\\n'), o('Unit', 'B', 'c')], '[Unit]\nA=foo \\\n\nB=c\n'],
  ])('%s', (_rule, file, text) => {
    expect(serializeUnitFile(file)).toBe(text);
  });
});

describe('hashUnitFile', () => {
  // Test vectors from fleet's own tests.
  it.each([
    ['unit/unit_test.go TestUnitHash', '[Service]\nExecStart=/bin/sleep 100\n', '1c6fb6f3684bafb0c173d8b8b957ceff031180c1'],
    ['fleetctl/list_unit_files_test.go, a described unit', '[Unit]\nDescription=some description', 'a0f275d46bc6ee0eca06be7c339913c07d99c0c7'],
    ['fleetctl/list_unit_files_test.go, an empty unit', '', 'da39a3ee5e6b4b0d3255bfef95601890afd80709'],
  ])('matches fleet: %s', (_source, text, hash) => {
    expect(hashUnitFile(parseUnitFile(text))).toBe(hash);
  });

  it('is the SHA1 of the UTF-8 bytes of the serialised form', () => {
    const file = parseUnitFile('[Unit]\nDescription=Hélló ☃\n[Service]\nExecStart=/bin/sleep 1\n[Unit]\nAfter=x\n');
    expect(hashUnitFile(file)).toBe(createHash('sha1').update(Buffer.from(serializeUnitFile(file), 'utf8')).digest('hex'));
  });

  it('ignores comments, blank lines, spacing and section order of repeated headers', () => {
    const a = parseUnitFile('# hi\n[Unit]\nDescription = Foo\n\n\n[Service]\nExecStart=/bin/true\n[Unit]\nAfter=x\n');
    const b = parseUnitFile('[Unit]\nDescription=Foo\nAfter=x\n\n[Service]\nExecStart=/bin/true\n');
    expect(hashUnitFile(a)).toBe(hashUnitFile(b));
  });
});

describe('round trips', () => {
  /** The options in the order serialising puts them: grouped by section, sections in order of first appearance. */
  const grouped = (file: UnitFile): UnitOption[] => {
    const sections = [...new Set(file.map((opt) => opt.section))];
    return sections.flatMap((section) => file.filter((opt) => opt.section === section));
  };

  const corpus = [
    '[Unit]\nDescription=Foo\n[Service]\nExecStart=/bin/sleep 1\n[Unit]\nAfter=x\n',
    '\nThis=Ignored\n[Unit]\n;ignore\nDescription = Foo\n\n[Service]\nExecStart=echo "ping";\nExecStop=echo "pong"\n# c\nExecStop=echo post\n\n[X-Fleet]\nMachineMetadata=foo=bar\nMachineMetadata=baz=qux\n',
    '[Service]\nExecStart=echo \\\n  "pi\\\n  ng"\nExecStop=\\\necho "po\\\nng"\nExecStopPre=echo\\\n#pang\n',
    '[Unit]\nA=foo \\\n\nB=c\n',
    '[Unit]\nA=foo \\\n',
    '[]\n=empty\n[Un\nit]\nA=b\n[ Sp ]\nx = y z \n',
    '[©]\nµ☃=ÇôrèÕ$\n',
    `[Service]\nExecStart=${x(2037)}\n`,
    `[Unit]\nA=${x(1500)}\\\n${x(1500, 'y')}\n`,
    '[Unit]\r\nDescription=crlf\r\nAfter=a\r\n',
    '',
  ];

  it.each(corpus)('parse(serialise(parse(x))) is parse(x) grouped by section, and a fixed point: %j', (text) => {
    const file = parseUnitFile(text);
    const again = parseUnitFile(serializeUnitFile(file));
    expect(again).toEqual(grouped(file));
    expect(serializeUnitFile(again)).toBe(serializeUnitFile(file));
    expect(parseUnitFile(serializeUnitFile(again))).toEqual(again);
    expect(unitFileProblem(file)).toBeUndefined();
  });

  // A value that ends in a backslash without continuing (at the end of the file, before spaces,
  // before a CR) is written back as a line ending in a backslash, which continues. fleet stores the
  // serialised text and parses it again when it reads it: `fleetctl cat` shows the second form
  // (seen on fleet itself), so storedUnitFile gives it.
  it.each<readonly [rule: string, text: string, parsed: readonly UnitOption[], reparsed: readonly UnitOption[]]>([
    ['a backslash at the end of the file', '[Unit]\nA=Bar \\', [o('Unit', 'A', 'Bar \\')], [o('Unit', 'A', 'Bar \\\n')]],
    ['a backslash before spaces', '[Unit]\nA=poof \\  \nB=c\n', [o('Unit', 'A', 'poof \\'), o('Unit', 'B', 'c')], [o('Unit', 'A', 'poof \\\nB=c')]],
    ['a backslash before a CR', '[Unit]\r\nA=foo \\\r\nB=bar\r\n', [o('Unit', 'A', 'foo \\'), o('Unit', 'B', 'bar')], [o('Unit', 'A', 'foo \\\nB=bar')]],
  ])('is not stable for %s: fleet stores the reparsed form', (_rule, text, parsed, reparsed) => {
    const file = parseUnitFile(text);
    expect(file).toEqual(parsed);
    expect(storedUnitFile(file)).toEqual(reparsed);
    expect(storedUnitFile(reparsed)).toEqual(reparsed);
  });
});

describe('hasInstallSection', () => {
  it('is true when an option lives in [Install]', () => {
    expect(hasInstallSection(parseUnitFile('[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=default.target\n'))).toBe(true);
  });

  it('is false without one, also for an empty [Install] header', () => {
    expect(hasInstallSection(parseUnitFile('[Service]\nExecStart=/bin/true\n'))).toBe(false);
    expect(hasInstallSection(parseUnitFile('[Service]\nExecStart=/bin/true\n[Install]\n'))).toBe(false);
    expect(hasInstallSection(parseUnitFile('[Service]\nX-Install=1\n'))).toBe(false);
  });
});

describe('unitFileProblem', () => {
  it.each<readonly [string, unknown, string | undefined]>([
    ['a valid file', [o('Unit', 'A', 'b')], undefined],
    ['no options', [], undefined],
    ['an empty section and name (fleet accepts "[]" and "=x")', [o('', '', 'x')], undefined],
    ['not an array', 'x', 'options must be an array'],
    ['not an object', [null], 'options[0] must be an object'],
    ['a missing field', [{ section: 'Unit', name: 'A' }], 'options[0].value must be a string'],
    ['"]" in a section', [o('Un]it', 'A', 'b')], 'options[0].section is not a valid section name'],
    ['"=" in a name', [o('Unit', 'A=B', '')], 'options[0].name is not a valid option name'],
    ['a line break in a name', [o('Unit', 'A\nB', '')], 'options[0].name is not a valid option name'],
  ])('%s', (_rule, value, problem) => {
    expect(unitFileProblem(value)).toBe(problem);
  });

  it('rejects options whose serialised form moves a long line to where go-systemd checks it', () => {
    // In the file, comments put the long line where the check is skipped; serialised, they are gone.
    const file = parseUnitFile(`[Service]\n${'# comment\n'.repeat(320)}ExecStart=${x(3000)}\n`);
    expect(file).toEqual([o('Service', 'ExecStart', x(3000))]);
    expect(unitFileProblem(file)).toMatch(/does not parse: .*line 2: line too long/);
  });

  it('rejects options whose serialised form does not parse, as fleet\'s API does (line too long)', () => {
    expect(unitFileProblem([o('Service', 'ExecStart', x(2038))])).toMatch(/does not parse: .*line 2: line too long/);
    expect(unitFileProblem([o('Service', 'ExecStart', x(2037))])).toBeUndefined();
  });
});
