import { InMemoryLeadership } from './memory-leadership.js';
import { InMemoryRegistry } from './memory-registry.js';
import { registryContract } from './registry-contract.js';

registryContract('InMemoryRegistry', async () => {
  const registry = new InMemoryRegistry();
  return {
    registry,
    cluster: registry,
    leadership: new InMemoryLeadership(registry),
    join: async (machine) => {
      registry.putMachine(machine);
      return { sink: registry.stateSink(machine.id), leave: async () => registry.removeMachine(machine.id) };
    },
  };
});
