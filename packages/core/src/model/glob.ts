/**
 * Glob patterns for `Conflicts=` and `Replaces=`, with the semantics of Go's `path.Match`, which
 * fleet uses: `*` matches any run of characters other than `/`, `?` one character other than `/`,
 * `[abc]`, `[a-z]` and `[^a-z]` a character class (only `^` negates; `!` is an ordinary character),
 * and `\` makes the next character literal, inside a class too. A pattern is malformed when a class
 * is not closed, is empty, has an unescaped `-` or `]` where a character is expected, or when the
 * pattern ends in a lone `\`.
 *
 * Patterns compile to anchored RegExps. On names without `/` (every unit name) the result is
 * exactly Go's, malformed patterns included; only on a name containing `/` matched by a class could
 * Go's leftmost-first `*` matching give a different answer.
 */

/** A compiled pattern, or why it is malformed. */
type Compiled = { readonly ok: true; readonly regexp: RegExp } | { readonly ok: false; readonly problem: string };

// Unit files carry few distinct globs (instances of a template share theirs), so the cache stays
// small; the bound only protects a long-lived engine from a stream of ever-different patterns.
const maxCached = 10_000;
const cache = new Map<string, Compiled>();

/**
 * Whether `name` matches `pattern` as a whole, with Go `path.Match` semantics. A malformed pattern
 * matches nothing, as in fleet (whose `globMatches` logs the error and returns false); submit-time
 * validation ({@link globProblem}) keeps such patterns out of the registry. Pure; compiled patterns
 * are cached.
 */
export function globMatch(pattern: string, name: string): boolean {
  const compiled = compile(pattern);
  return compiled.ok && compiled.regexp.test(name);
}

/**
 * Why `pattern` is malformed, or `undefined`: a single line naming the offending character by its
 * 0-based offset, without the pattern itself (callers say which option held it). Pure.
 */
export function globProblem(pattern: string): string | undefined {
  const compiled = compile(pattern);
  return compiled.ok ? undefined : compiled.problem;
}

/**
 * The literal text every match of `pattern` starts with: the characters before the first `*`, `?`
 * or `[`, with `\` escapes resolved (`a\*b*` → `a*b`). The scheduler's index uses it to narrow the
 * candidate names before matching; `''` means "any name". Meaningless for a malformed pattern,
 * which matches nothing anyway.
 */
export function globLiteralPrefix(pattern: string): string {
  let prefix = '';
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === undefined || c === '*' || c === '?' || c === '[') break;
    if (c === '\\') {
      const next = chars[++i];
      if (next === undefined) break;
      prefix += next;
      continue;
    }
    prefix += c;
  }
  return prefix;
}

function compile(pattern: string): Compiled {
  let compiled = cache.get(pattern);
  if (compiled === undefined) {
    compiled = translate(pattern);
    if (cache.size >= maxCached) cache.clear();
    cache.set(pattern, compiled);
  }
  return compiled;
}

/** Characters that need a backslash in a `u`-mode RegExp (`-` only inside a class). */
const regexpSyntax = /[\\^$.*+?()[\]{}|/]/u;

function literal(c: string, inClass: boolean): string {
  return regexpSyntax.test(c) || (inClass && c === '-') ? `\\${c}` : c;
}

/**
 * Translates a pattern into an anchored RegExp source, following Go's `matchChunk`/`getEsc` so that
 * exactly the patterns Go rejects are rejected. Works on code points, as Go works on runes.
 */
function translate(pattern: string): Compiled {
  const chars = Array.from(pattern);
  const fail = (problem: string): Compiled => ({ ok: false, problem });
  let source = '';
  let i = 0;
  while (i < chars.length) {
    const c = chars[i] ?? '';
    if (c === '*') {
      source += '[^/]*';
      i++;
    } else if (c === '?') {
      source += '[^/]';
      i++;
    } else if (c === '\\') {
      const next = chars[i + 1];
      if (next === undefined) return fail('trailing "\\" escapes nothing');
      source += literal(next, false);
      i += 2;
    } else if (c === '[') {
      const open = i;
      i++;
      let negated = false;
      if (chars[i] === '^') {
        negated = true;
        i++;
      }
      let ranges = '';
      let count = 0;
      for (;;) {
        if (chars[i] === ']' && count > 0) {
          i++;
          break;
        }
        const lo = classChar(chars, i, open);
        if (!lo.ok) return fail(lo.problem);
        i = lo.next;
        let hi = lo.char;
        if (chars[i] === '-') {
          const end = classChar(chars, i + 1, open);
          if (!end.ok) return fail(end.problem);
          hi = end.char;
          i = end.next;
        }
        // Go accepts a reversed range such as `z-a` and it simply matches nothing; a RegExp would throw.
        if ((lo.char.codePointAt(0) ?? 0) <= (hi.codePointAt(0) ?? 0)) {
          ranges += lo.char === hi ? literal(hi, true) : `${literal(lo.char, true)}-${literal(hi, true)}`;
        }
        count++;
      }
      // `[]` matches nothing and `[^]` any one character, exactly what Go does with only reversed ranges.
      source += `[${negated ? '^' : ''}${ranges}]`;
    } else {
      source += literal(c, false);
      i++;
    }
  }
  return { ok: true, regexp: new RegExp(`^(?:${source})$`, 'u') };
}

type ClassChar = { ok: true; char: string; next: number } | { ok: false; problem: string };

/** One (possibly escaped) character at `i` of the class opened at `open`, as Go's `getEsc` reads it. */
function classChar(chars: readonly string[], i: number, open: number): ClassChar {
  const unclosed: ClassChar = { ok: false, problem: `"[" at offset ${open} is never closed` };
  let c = chars[i];
  if (c === undefined) return unclosed;
  if (c === '-' || c === ']') {
    return { ok: false, problem: `unescaped "${c}" at offset ${i} where the character class opened at offset ${open} expects a character` };
  }
  let next = i + 1;
  if (c === '\\') {
    c = chars[next];
    if (c === undefined) return unclosed;
    next++;
  }
  // Go also rejects a class character that ends the pattern: the class can no longer be closed.
  if (next >= chars.length) return unclosed;
  return { ok: true, char: c, next };
}
