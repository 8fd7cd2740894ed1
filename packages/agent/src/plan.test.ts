import { describe, expect, it } from 'vitest';
import { hashUnitFile, parseUnitFile, parseUnitName, type UnitName } from '@fleet/core/model';
import { leaveAlone, planAgentTasks, skipFailed, type AgentTask, type CurrentUnits, type DesiredUnit } from './plan.js';
import type { SystemdUnitState } from './unit-manager.js';

const hello = parseUnitName('hello.service');
const web = parseUnitName('web.service');
const v1 = parseUnitFile('[Service]\nExecStart=/bin/sleep 1000\n');
const v2 = parseUnitFile('[Service]\nExecStart=/bin/sleep 2000\n');
const running: SystemdUnitState = { loadState: 'loaded', activeState: 'active', subState: 'running' };
const stopping: SystemdUnitState = { loadState: 'loaded', activeState: 'deactivating', subState: 'stop-sigterm' };
const dead: SystemdUnitState = { loadState: 'loaded', activeState: 'inactive', subState: 'dead' };
const notFound: SystemdUnitState = { loadState: 'not-found', activeState: 'inactive', subState: 'dead' };

function want(targetState: 'loaded' | 'launched', file = v1): DesiredUnit {
  return { targetState, hash: hashUnitFile(file), file };
}

function have(units: Array<[UnitName, SystemdUnitState, typeof v1?]>, started: UnitName[] = []): CurrentUnits {
  return {
    loaded: new Map(units.map(([n, , f]) => [n, hashUnitFile(f ?? v1)])),
    states: new Map(units.map(([n, s]) => [n, s])),
    started: new Set(started),
  };
}

describe('planAgentTasks', () => {
  it.each([
    {
      name: 'loads and starts a newly scheduled launched unit systemd does not know, without a reload',
      desired: new Map([[hello, want('launched')]]),
      current: { ...have([]), states: new Map([[hello, notFound]]) },
      tasks: [
        { kind: 'load-unit', unit: hello, file: v1, reason: 'scheduled' },
        { kind: 'start-unit', unit: hello, reason: 'target-launched' },
      ],
    },
    {
      name: 'only loads a unit whose target is loaded',
      desired: new Map([[hello, want('loaded')]]),
      current: { ...have([]), states: new Map([[hello, notFound]]) },
      tasks: [{ kind: 'load-unit', unit: hello, file: v1, reason: 'scheduled' }],
    },
    {
      name: 'reloads after loading a unit systemd still holds an old definition of (its file gone, the unit loaded)',
      desired: new Map([[hello, want('launched')]]),
      current: { ...have([]), states: new Map([[hello, dead]]) },
      tasks: [
        { kind: 'load-unit', unit: hello, file: v1, reason: 'scheduled' },
        { kind: 'reload-unit-files', reason: 'files-changed' },
        { kind: 'start-unit', unit: hello, reason: 'target-launched' },
      ],
    },
    {
      name: 'reloads after loading a unit systemd keeps as failed after its file went (not-found, failed)',
      desired: new Map([[hello, want('launched')]]),
      current: { ...have([]), states: new Map([[hello, { loadState: 'not-found', activeState: 'failed', subState: 'failed' }]]) },
      tasks: [
        { kind: 'load-unit', unit: hello, file: v1, reason: 'scheduled' },
        { kind: 'reload-unit-files', reason: 'files-changed' },
        { kind: 'start-unit', unit: hello, reason: 'target-launched' },
      ],
    },
    {
      name: 'reloads after loading a unit systemd could not parse before (bad-setting is a definition too)',
      desired: new Map([[hello, want('loaded')]]),
      current: { ...have([]), states: new Map([[hello, { loadState: 'bad-setting', activeState: 'inactive', subState: 'dead' }]]) },
      tasks: [
        { kind: 'load-unit', unit: hello, file: v1, reason: 'scheduled' },
        { kind: 'reload-unit-files', reason: 'files-changed' },
      ],
    },
    {
      name: 'does nothing for a running launched unit',
      desired: new Map([[hello, want('launched')]]),
      current: have([[hello, running]], [hello]),
      tasks: [],
    },
    {
      name: 'does not start a launched unit again while systemd stops it (deactivating counts as running)',
      desired: new Map([[hello, want('launched')]]),
      current: have([[hello, stopping]]),
      tasks: [],
    },
    {
      name: 'stops an unscheduled unit that is deactivating, then unloads it',
      desired: new Map(),
      current: have([[hello, stopping]]),
      tasks: [
        { kind: 'stop-unit', unit: hello, reason: 'unscheduled' },
        { kind: 'unload-unit', unit: hello, reason: 'unscheduled' },
        { kind: 'reload-unit-files', reason: 'files-changed' },
      ],
    },
    {
      name: 'does not restart a unit it started that has since exited (systemd owns restarts)',
      desired: new Map([[hello, want('launched')]]),
      current: have([[hello, dead]], [hello]),
      tasks: [],
    },
    {
      name: 'stops a running unit whose target became loaded, without a reload',
      desired: new Map([[hello, want('loaded')]]),
      current: have([[hello, running]], [hello]),
      tasks: [{ kind: 'stop-unit', unit: hello, reason: 'target-loaded' }],
    },
    {
      name: 'stops and unloads a unit no longer scheduled here',
      desired: new Map(),
      current: have([[hello, running]]),
      tasks: [
        { kind: 'stop-unit', unit: hello, reason: 'unscheduled' },
        { kind: 'unload-unit', unit: hello, reason: 'unscheduled' },
        { kind: 'reload-unit-files', reason: 'files-changed' },
      ],
    },
    {
      name: 'replaces a unit whose file changed: stop, unload, load, reload, start',
      desired: new Map([[hello, want('launched', v2)]]),
      current: have([[hello, running, v1]], [hello]),
      tasks: [
        { kind: 'stop-unit', unit: hello, reason: 'hash-changed' },
        { kind: 'unload-unit', unit: hello, reason: 'hash-changed' },
        { kind: 'load-unit', unit: hello, file: v2, reason: 'hash-changed' },
        { kind: 'reload-unit-files', reason: 'files-changed' },
        { kind: 'start-unit', unit: hello, reason: 'hash-changed' },
      ],
    },
    {
      name: 'orders tasks by kind across units',
      desired: new Map([[web, want('launched')]]),
      current: { ...have([[hello, running]]), states: new Map([[hello, running], [web, notFound]]) },
      tasks: [
        { kind: 'stop-unit', unit: hello, reason: 'unscheduled' },
        { kind: 'unload-unit', unit: hello, reason: 'unscheduled' },
        { kind: 'load-unit', unit: web, file: v1, reason: 'scheduled' },
        { kind: 'reload-unit-files', reason: 'files-changed' },
        { kind: 'start-unit', unit: web, reason: 'target-launched' },
      ],
    },
  ])('$name', ({ desired, current, tasks }) => {
    expect(planAgentTasks(desired, current)).toEqual(tasks);
  });
});

describe('skipFailed', () => {
  const loadHello: AgentTask = { kind: 'load-unit', unit: hello, file: v1, reason: 'scheduled' };
  const startHello: AgentTask = { kind: 'start-unit', unit: hello, reason: 'target-launched' };
  const loadWeb: AgentTask = { kind: 'load-unit', unit: web, file: v1, reason: 'scheduled' };
  const startWeb: AgentTask = { kind: 'start-unit', unit: web, reason: 'target-launched' };
  const reload: AgentTask = { kind: 'reload-unit-files', reason: 'files-changed' };
  const stopHello: AgentTask = { kind: 'stop-unit', unit: hello, reason: 'unscheduled' };
  const unloadHello: AgentTask = { kind: 'unload-unit', unit: hello, reason: 'unscheduled' };
  const failedWith = (file: typeof v1) => new Map([[hello, { hash: hashUnitFile(file), message: 'refused' }]]);
  const desired = new Map([[hello, want('launched')], [web, want('launched')]]);

  it.each([
    { name: 'drops the load and start of a unit that failed with the file it is scheduled with', tasks: [loadHello, loadWeb, reload, startHello, startWeb], failures: failedWith(v1), kept: [loadWeb, reload, startWeb] },
    { name: 'drops the reload when no load or unload is left to need it', tasks: [loadHello, reload, startHello, startWeb], failures: failedWith(v1), kept: [startWeb] },
    { name: 'tries a unit again once its file changed (the failure was for another hash)', tasks: [loadHello, reload, startHello], failures: failedWith(v2), kept: [loadHello, reload, startHello] },
    { name: 'keeps stops and unloads of a failed unit', tasks: [stopHello, unloadHello, reload], failures: failedWith(v1), kept: [stopHello, unloadHello, reload] },
    { name: 'changes nothing without failures', tasks: [loadHello, reload, startHello], failures: new Map(), kept: [loadHello, reload, startHello] },
  ])('$name', ({ tasks, failures, kept }) => {
    expect(skipFailed(tasks, desired, failures)).toEqual(kept);
  });
});

describe('leaveAlone', () => {
  const stopHello: AgentTask = { kind: 'stop-unit', unit: hello, reason: 'unscheduled' };
  const unloadHello: AgentTask = { kind: 'unload-unit', unit: hello, reason: 'unscheduled' };
  const loadWeb: AgentTask = { kind: 'load-unit', unit: web, file: v1, reason: 'scheduled' };
  const reload: AgentTask = { kind: 'reload-unit-files', reason: 'files-changed' };

  it.each([
    { name: 'drops every task of a unit it cannot read, its stop and unload too, and the reload only they needed', tasks: [stopHello, unloadHello, reload], kept: [] },
    { name: 'keeps the other units\' tasks and the reload they need', tasks: [stopHello, unloadHello, loadWeb, reload], kept: [loadWeb, reload] },
  ])('$name', ({ tasks, kept }) => {
    expect(leaveAlone(tasks, new Set([hello]))).toEqual(kept);
  });
});
