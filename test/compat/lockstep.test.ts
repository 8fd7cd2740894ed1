import { describe, expect, it } from 'vitest';
import { normalise } from './lockstep.js';

const machines = [
  { machineId: '1c0a9d9e2b3f4a5b8c7d6e5f4a3b2c1d', publicIp: '127.0.1.1' },
  { machineId: '2d1b0e9f3c4a5b6c9d8e7f6a5b4c3d2e', publicIp: '127.0.1.2' },
];

describe('normalise', () => {
  it('renames machines in the order they first appear, whatever form names them', () => {
    const text = 'one@1.service\t2d1b0e9f.../127.0.1.2\tactive\none@2.service\t1c0a9d9e.../127.0.1.1\tactive\nfull 2d1b0e9f3c4a5b6c9d8e7f6a5b4c3d2e\n';
    expect(normalise(text, machines, false)).toBe('one@1.service\tM1.../M1-ip\tactive\none@2.service\tM2.../M2-ip\tactive\nfull M1-id\n');
  });

  it('gives the same text for the same layout on other machines, and another text for another layout', () => {
    const here = 'a\t1c0a9d9e.../127.0.1.1\nb\t2d1b0e9f.../127.0.1.2\n';
    const swapped = 'a\t2d1b0e9f.../127.0.1.2\nb\t1c0a9d9e.../127.0.1.1\n';
    const together = 'a\t1c0a9d9e.../127.0.1.1\nb\t1c0a9d9e.../127.0.1.1\n';
    expect(normalise(swapped, machines, false)).toBe(normalise(here, machines, false));
    expect(normalise(together, machines, false)).not.toBe(normalise(here, machines, false));
  });

  it('drops glog timestamps; unordered sorts lines and drops the machine fleet prints only sometimes', () => {
    const text = '2026/12/02 03:43:38 INFO restart.go:100: x\nUnit b.service launched on 1c0a9d9e.../127.0.1.1\nUnit a.service launched\n';
    expect(normalise(text, machines, true)).toBe('INFO restart.go:100: x\nUnit a.service launched\nUnit b.service launched\n');
  });
});
