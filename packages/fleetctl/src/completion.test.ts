import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { completionScript } from './completion-scripts.js';
import { completionTarget } from './completion.js';
import { createCommandLineSpec } from './cli.js';
import { optionsOf, startHarness } from './testing/harness.js';
import type { Harness } from './testing/harness.js';

const unit = optionsOf('[Service]\nExecStart=/bin/true\n');
const completionsDir = fileURLToPath(new URL('../completions/', import.meta.url));

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
  // yargs formats candidates for the shell in SHELL (the scripts set it); plain names for bash.
  vi.stubEnv('SHELL', '/bin/bash');
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await h.close();
});

/** What `fleetctl --get-yargs-completions WORD...` prints, one candidate per line. */
async function complete(words: readonly string[], env: Record<string, string> = {}): Promise<string[]> {
  const r = await h.fleetctl(['--get-yargs-completions', 'fleetctl', ...words], { FLEETCTL_ENDPOINT: h.api.endpoint, ...env });
  expect(r).toMatchObject({ code: 0, stderr: '' });
  return r.stdout === '' ? [] : r.stdout.replace(/\n$/, '').split('\n');
}

describe('fleetctl completion', () => {
  it('prints the bash script, which bash accepts', async () => {
    const r = await h.fleetctl(['completion', 'bash']);
    expect(r).toMatchObject({ code: 0, stderr: '', stdout: completionScript('bash') });
    const file = join(h.dir, 'fleetctl.bash');
    writeFileSync(file, r.stdout);
    expect(spawnSync('bash', ['-n', file], { encoding: 'utf8' })).toMatchObject({ status: 0, stderr: '' });
    expect(r.stdout).toContain('complete -o bashdefault -o default -F _fleetctl_completions fleetctl\n');
    expect(h.api.requests).toEqual([]);
  });

  it('prints the zsh script', async () => {
    const r = await h.fleetctl(['compl', 'zsh']);
    expect(r).toMatchObject({ code: 0, stderr: '', stdout: completionScript('zsh') });
    const zsh = spawnSync('zsh', ['--version']);
    if (zsh.error === undefined && zsh.status === 0) {
      const file = join(h.dir, '_fleetctl');
      writeFileSync(file, r.stdout);
      expect(spawnSync('zsh', ['-n', file], { encoding: 'utf8' })).toMatchObject({ status: 0, stderr: '' });
    } else {
      // No zsh here: check the parts zsh needs instead of parsing the script.
      expect(r.stdout.startsWith('#compdef fleetctl\n')).toBe(true);
      expect(r.stdout).toContain('_fleetctl() {\n');
      expect(r.stdout).toContain('SHELL=/bin/zsh "${words[1]}" --get-yargs-completions "${(@)words[1,CURRENT]}"');
      expect(r.stdout).toContain("_describe 'fleetctl' candidates");
      expect(r.stdout).toContain('  compdef _fleetctl fleetctl\n');
      const count = (re: RegExp): number => (r.stdout.match(re) ?? []).length;
      expect(count(/\{/g)).toBe(count(/\}/g));
      expect(count(/\(/g)).toBe(count(/\)/g));
      expect(count(/^\s*if\b/gm)).toBe(count(/^\s*fi\b/gm));
    }
  });

  it('refuses other shells', async () => {
    const r = await h.fleetctl(['completion', 'fish']);
    expect(r).toMatchObject({ code: 1, stderr: 'Error: Invalid values: Argument: shell, Given: "fish", Choices: "bash", "zsh"\nRun \'fleetctl help\' for usage.\n' });
  });

  it.each([
    ['bash', 'fleetctl.bash'],
    ['zsh', '_fleetctl'],
  ] as const)('ships the %s script as completions/%s, as generated', (shell, file) => {
    // Regenerate after changing completion-scripts.ts: fleetctl completion <shell> > completions/<file>
    expect(readFileSync(join(completionsDir, file), 'utf8')).toBe(completionScript(shell));
  });

  it('bash -n accepts the shipped bash script', () => {
    expect(() => execFileSync('bash', ['-n', join(completionsDir, 'fleetctl.bash')])).not.toThrow();
  });
});

describe('completion requests', () => {
  it('lists the commands, help and completion included, deprecated and internal ones not', async () => {
    const words = await complete(['']);
    expect(words).toEqual(expect.arrayContaining(['submit', 'start', 'restart', 'list-machines', 'help', 'completion', 'version']));
    expect(words).not.toContain('verify');
    expect(words).not.toContain('ssh');
    expect(words.some((w) => w.startsWith('__'))).toBe(false);
    expect(h.api.requests).toEqual([]);
  });

  it('completes the flags of an abbreviated command, without the API', async () => {
    const words = await complete(['list-m', '--']);
    expect(words).toEqual(expect.arrayContaining(['--fields', '--full', '--no-legend', '--output', '--endpoint', '--request-timeout']));
    expect(words).not.toContain('--experimental-api');
    expect(words).not.toContain('--block-attempts');
    expect(h.api.requests).toEqual([]);
  });

  it('completes the choices of a flag', async () => {
    expect(await complete(['list-units', '-o', ''])).toEqual(['table', 'json']);
    expect(await complete(['status', '--output', ''])).toEqual(['text', 'json']);
    expect(h.api.requests).toEqual([]);
  });

  it('completes unit arguments with the registered units, from the API', async () => {
    h.api.addUnit('hello.service', unit);
    h.api.addUnit('web@1.service', unit);
    h.api.addUnit('web@2.service', unit);
    expect(await complete(['stop', ''])).toEqual(['hello.service', 'web@1.service', 'web@2.service']);
    expect(await complete(['star', 'hello.service', 'web'])).toEqual(['web@1.service', 'web@2.service']);
    expect(h.api.requests.every((q) => q.method === 'GET' && q.url.startsWith('/fleet/v1/units'))).toBe(true);
  });

  it('leaves paths and unreachable APIs to file completion', async () => {
    h.api.addUnit('hello.service', unit);
    expect(await complete(['start', './units/he'])).toEqual([]);
    expect(h.api.requests).toEqual([]);
    expect(await complete(['stop', 'he'], { FLEETCTL_ENDPOINT: `unix://${join(h.dir, 'nothing.sock')}` })).toEqual([]);
  });

  it('completes a command word typed in full, or a help topic, to every command (the shell filters)', async () => {
    expect(await complete(['stop'])).toEqual(expect.arrayContaining(['stop', 'status', 'start']));
    expect(await complete(['--debug', 'help', 'list-m'])).toEqual(expect.arrayContaining(['list-machines', 'list-units', 'restart']));
    expect(h.api.requests).toEqual([]);
  });

  it('never runs a command or calls the API while completing its flags', async () => {
    h.api.addUnit('hello.service', unit, { desiredState: 'launched' });
    for (const words of [['destroy', 'hello', '--block-attempts', ''], ['destroy', 'hello', '--'], ['stop', 'hello', '-'], ['restart', '--no-block', 'hello', '--bl']]) {
      await complete(words);
    }
    expect(h.api.requests).toEqual([]);
    expect(h.api.units.has('hello.service')).toBe(true);
  });

  it('reaches the API with the global flags typed on the line', async () => {
    h.api.addUnit('hello.service', unit);
    const bogus = { FLEETCTL_ENDPOINT: `unix://${join(h.dir, 'nothing.sock')}` };
    expect(await complete(['--endpoint', h.api.endpoint, 'status', 'h'], bogus)).toEqual(['hello.service']);
    expect(await complete(['status', '--endpoint', h.api.endpoint, 'h'], bogus)).toEqual(['hello.service']);
  });

  it('escapes ":" in unit names for zsh', async () => {
    vi.stubEnv('SHELL', '/bin/zsh');
    h.api.addUnit('app:v2.service', unit);
    expect(await complete(['cat', 'app'], { SHELL: '/bin/zsh' })).toEqual(['app\\:v2.service']);
  });

  it('describes commands for zsh', async () => {
    vi.stubEnv('SHELL', '/bin/zsh');
    const words = await complete(['rest'], { SHELL: '/bin/zsh' });
    expect(words).toContain('restart:Instruct systemd to rolling restart one or more units in the cluster.');
  });
});

describe('completionTarget', () => {
  const spec = createCommandLineSpec({});
  it.each([
    [['fleetctl', ''], { kind: 'command' }],
    [['fleetctl', 'sto'], { kind: 'command' }],
    [['fleetctl', '--endpoint', 'x', 'stop'], { kind: 'command' }],
    [['fleetctl', 'stop', ''], { kind: 'unit', prefix: '' }],
    [['fleetctl', 'stop', 'a.service', 'he'], { kind: 'unit', prefix: 'he' }],
    [['fleetctl', '--debug', 'status', '-l', 'web@'], { kind: 'unit', prefix: 'web@' }],
    [['fleetctl', 'stop', '--block-attempts', ''], { kind: 'other' }],
    [['fleetctl', 'stop', '--'], { kind: 'other' }],
    [['fleetctl', 'start', 'units/he'], { kind: 'other' }],
    [['fleetctl', 'list-units', ''], { kind: 'other' }],
    [['fleetctl', 'stop', '-'], { kind: 'other' }],
    [['fleetctl', 'help', 'list-m'], { kind: 'command' }],
    [['fleetctl', 'help', ''], { kind: 'command' }],
    [['fleetctl', 'help', 'start', ''], { kind: 'other' }],
    [['fleetctl', '--endpoint', ''], { kind: 'other' }],
  ])('%j', (words, expected) => {
    expect(completionTarget(words, spec)).toEqual(expected);
  });
});
