import { describe, expect, it } from 'vitest';
import { parseBooleanWord } from './boolean-word.js';

describe('parseBooleanWord', () => {
  it.each(['true', 'yes', '1', 'on', 't', 'TRUE', 'Yes', ' On ', 'T'])('reads %j as true', (text) => {
    expect(parseBooleanWord(text)).toBe(true);
  });

  it.each(['false', 'no', '0', 'off', 'f', 'FALSE', 'No', '\tOFF\n', 'F'])('reads %j as false', (text) => {
    expect(parseBooleanWord(text)).toBe(false);
  });

  it.each(['', '  ', 'y', 'n', '2', 'enabled', 'truthy', 'o n'])('refuses %j', (text) => {
    expect(parseBooleanWord(text)).toBeUndefined();
  });
});
