import { expect, it } from 'vitest';
import { hashUnitFile } from '../model/unit-file.js';
import { parseUnitName } from '../model/unit-name.js';
import type { Unit, UnitState } from '../model/unit.js';
import { aMachine } from './builders.js';
import { fileOf, unitOf } from './contract-units.js';
import type { RegistryUnderTest } from './registry-contract.js';

/**
 * The registry contract's batch writes (`createUnits`, `writeStates`), beyond what one etcd
 * transaction holds; part of {@link registryContract}.
 */
export function registryBatchContract(make: () => Promise<RegistryUnderTest>): void {
    it('creates many units in one call, more than one etcd transaction holds, and reports those that existed as createUnit does', async () => {
      const { registry } = await make();
      const shared = fileOf('/bin/sleep 1');
      const old = unitOf('batch-old.service', fileOf('/bin/old'));
      await registry.createUnit(old);
      const fresh = Array.from({ length: 120 }, (_, i) => unitOf(`batch-${i}.service`, i % 2 === 0 ? shared : fileOf(`/bin/sleep ${i}`)));
      const batch = [...fresh.slice(0, 60), { ...old, desiredState: 'launched' as const }, ...fresh.slice(60)];
      const outcomes = await registry.createUnits(batch);
      expect(outcomes.map((o) => o.kind)).toEqual(batch.map((u) => (u.name === old.name ? 'exists' : 'created')));
      expect(outcomes[60]).toMatchObject({ kind: 'exists', existing: { name: old.name, hash: old.hash, desiredState: old.desiredState } });
      for (const unit of [fresh[0], fresh[1], fresh[119]] as Unit[]) expect(await registry.getUnit(unit.name)).toEqual(unit);
      expect((await registry.snapshot()).units.size).toBe(121);
      expect(await registry.createUnits([])).toEqual([]);
    });

    it('writes many unit states in one call (more than one etcd transaction holds), removes some, and says which landed', async () => {
      const { registry, join } = await make();
      const machine = aMachine('w');
      const joined = await join(machine);
      const hash = hashUnitFile(fileOf('/bin/true'));
      const names = Array.from({ length: 250 }, (_, i) => parseUnitName(`s${i}.service`));
      const states = names.map((name): UnitState => ({ name, machineId: machine.id, hash, loadState: 'loaded', activeState: 'active', subState: 'running', agentState: 'launched' }));
      const first = await joined.sink.writeStates({ publish: states, remove: [] });
      expect(first).toEqual({ written: new Set(names) });
      expect((await registry.snapshot()).states.length).toBe(250);
      const gone = names.slice(0, 120);
      const failed = states.slice(120).map((s) => ({ ...s, activeState: 'failed', subState: 'failed' }));
      expect(await joined.sink.writeStates({ publish: failed, remove: gone })).toEqual({ written: new Set(names) });
      const after = (await registry.snapshot()).states;
      expect(after.map((s) => s.name).sort()).toEqual(names.slice(120).sort());
      expect(after.every((s) => s.activeState === 'failed')).toBe(true);
      await joined.leave();
    });

}
