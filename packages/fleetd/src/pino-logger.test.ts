import { describe, expect, it } from 'vitest';
import { RegistryUnavailableError, type LogLevel } from '@fleet/core';
import { pinoLogger } from './pino-logger.js';

/** A logger writing into an array, and its lines parsed. */
function recording(minLevel: LogLevel | (() => LogLevel) = 'info') {
  const lines: string[] = [];
  const log = pinoLogger({ write: (line: string) => void lines.push(line) }, minLevel);
  return { log, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('pinoLogger', () => {
  it('writes one JSON object a line: level as a word, ISO time, msg, the fields and those of its parents', () => {
    const { log, lines, parsed } = recording();
    log.child({ component: 'engine' }).child({ machine: 'abcd1234' }).info('placed', { unit: 'a.service', count: 2 });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith('\n')).toBe(true);
    expect(lines[0]?.trimEnd()).not.toContain('\n');
    const [line] = parsed();
    expect(line).toEqual({ level: 'info', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/), component: 'engine', machine: 'abcd1234', unit: 'a.service', count: 2, msg: 'placed' });
  });

  it('drops lines below the level, read at every line, so a reload changes the loggers already handed out', () => {
    let level: LogLevel = 'info';
    const { log, parsed } = recording(() => level);
    const child = log.child({ component: 'agent' });
    child.debug('before');
    level = 'debug';
    child.debug('after');
    level = 'error';
    child.warn('hidden');
    child.error('shown');
    expect(parsed().map((l) => [l['level'], l['msg']])).toEqual([['debug', 'after'], ['error', 'shown']]);
  });

  it("keeps an error's type, message, stack, own fields and its cause chain, under any key", () => {
    const { log, parsed } = recording();
    const root = new Error('connect ECONNREFUSED 127.0.0.1:2379', { cause: 'socket closed' });
    const err = new RegistryUnavailableError('snapshot', { cause: root });
    log.error('engine pass failed', { err, retryInMs: 500 });
    log.warn('watch error', { problem: new TypeError('bad') });
    const [first, second] = parsed();
    const logged = first?.['err'] as Record<string, unknown>;
    expect(logged).toMatchObject({ type: 'RegistryUnavailableError', message: err.message, code: 'REGISTRY_UNAVAILABLE', stack: err.stack });
    expect(logged['stack']).toContain('pino-logger.test.ts');
    expect(logged['cause']).toMatchObject({ type: 'Error', message: root.message, stack: root.stack, cause: 'socket closed' });
    expect(first?.['retryInMs']).toBe(500);
    expect(second?.['problem']).toMatchObject({ type: 'TypeError', message: 'bad', stack: expect.stringContaining('TypeError: bad') });
  });
});
