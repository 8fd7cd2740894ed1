// fleet's words for a boolean, as its `isTruthyValue` (unit files' `Global=`) and its config and
// environment parsing accept them: compared after trimming, in any case.
const trueWords: ReadonlySet<string> = new Set(['true', 'yes', '1', 'on', 't']);
const falseWords: ReadonlySet<string> = new Set(['false', 'no', '0', 'off', 'f']);

/**
 * Reads a boolean as fleet does: `true`, `yes`, `1`, `on`, `t` and `false`, `no`, `0`, `off`, `f`,
 * in any case and with surrounding white space. Anything else (the empty string included) is
 * `undefined`; the caller decides whether that is false (`Global=`), a default (an unset
 * environment variable) or an error (a config option). Go's `strconv.ParseBool`, which fleetctl's
 * command-line flags follow, is another, narrower set: see fleetctl's `goBool`.
 */
export function parseBooleanWord(text: string): boolean | undefined {
  const word = text.trim().toLowerCase();
  if (trueWords.has(word)) return true;
  if (falseWords.has(word)) return false;
  return undefined;
}
