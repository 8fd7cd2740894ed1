/**
 * Whether `argv` asks for nothing but fleetctl's version, so a bin may print it without loading the
 * command line: `version` alone, or `--version`/`-v` first, and no FLEETCTL_* variable set (those
 * are parsed, and refused when invalid, by the full command line, which then runs instead).
 */
export function isBareVersion(args: readonly string[], env: NodeJS.ProcessEnv): boolean {
  const first = args[0];
  const asked = first === '--version' || first === '-v' || (first === 'version' && args.length === 1);
  return asked && !Object.keys(env).some((name) => name.startsWith('FLEETCTL_'));
}
