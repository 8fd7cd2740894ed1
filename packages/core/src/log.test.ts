import { describe, expect, it } from 'vitest';
import { jsonLogger, type LogLevel } from './log.js';

describe('jsonLogger', () => {
  it('writes one JSON line per entry at the level and above, with the fields of its children', () => {
    const lines: string[] = [];
    const log = jsonLogger({ write: (l: string) => lines.push(l) }, 'info').child({ component: 'engine' });
    log.debug('hidden');
    log.warn('shown', { unit: 'a.service' });
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toMatchObject([{ level: 'warn', msg: 'shown', component: 'engine', unit: 'a.service' }]);
  });

  it('reads a level function at every line, so a reload changes loggers already handed out', () => {
    const lines: string[] = [];
    let level: LogLevel = 'info';
    const child = jsonLogger({ write: (l: string) => lines.push(l) }, () => level).child({ component: 'agent' });
    child.debug('before');
    level = 'debug';
    child.debug('after');
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['after']);
  });
});
