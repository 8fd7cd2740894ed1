import { describe, expect, it } from 'vitest';
import { isRunningState, isStartedState, isTransitionalState } from './active-state.js';

describe('systemd ActiveStates', () => {
  it.each([
    ['active', true, true, false],
    ['activating', true, false, true],
    ['deactivating', true, false, true],
    ['reloading', true, false, true],
    ['refreshing', true, false, true],
    ['inactive', false, false, false],
    ['failed', false, false, false],
    ['maintenance', false, false, false],
    ['', false, false, false],
  ])('%j: running %s, started %s, transitional %s', (state, running, started, transitional) => {
    expect(isRunningState(state)).toBe(running);
    expect(isStartedState(state)).toBe(started);
    expect(isTransitionalState(state)).toBe(transitional);
  });
});
