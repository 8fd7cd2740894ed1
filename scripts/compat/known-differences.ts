/**
 * Corpus cases where our fleet-ts answers differently from fleet on purpose, with the reason. The
 * corpus test requires these to still differ (so that a case that starts agreeing leaves the list)
 * and every other case to agree. test/compat/corpus/README.md lists them too.
 */
export const knownDifferences: Readonly<Record<string, string>> = {
  // fleet knows no SpreadBy= and ignores it (its fleetctl warns about an unknown option); we act on
  // it, so a key that no machine metadata could hold is refused rather than silently spreading by
  // machine. No fleet unit file had a reason to use the name.
  'x-fleet-ours-spreadby-malformed.service': 'SpreadBy= is ours: a malformed metadata key is refused (fleet ignores the unknown option)',
};
