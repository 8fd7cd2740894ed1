import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FleetError } from '@fleet/core';
import { configDefaults, loadConfig } from './config.js';

/**
 * Property-based fuzzing of fleetd's configuration (issue 9, guarantee 6): any fleet.conf text,
 * FLEET_* variables and flags load, or are refused with a FleetError that names the option;
 * never another exception.
 */

const option = fc.oneof(fc.constantFrom(...Object.keys(configDefaults), 'etcd_keyfile', 'enable_grpc', 'bogus'), fc.string());
const value = fc.oneof(
  fc.string(),
  fc.constantFrom('', 'true', 'false', '0', '-1', '1.5', '1e9', 'NaN', 'Infinity', 'http://127.0.0.1:2379', 'http://a,,http://b', 'unix:///x', 'region=us,rack=r1', 'rack', '=x', '5s', '10m', '0x10'),
);
const iniLine = fc.oneof(
  fc.tuple(option, value).map(([k, v]) => `${k}=${v}`),
  fc.tuple(option, value).map(([k, v]) => `${k} = "${v}"`),
  fc.constantFrom('[section]', '; comment', '# comment', '', 'noequals', '=x'),
  fc.string(),
);

describe('fleetd configuration under fuzzing', () => {
  it('loads, or refuses with a FleetError naming the problem (3,000 cases)', () => {
    fc.assert(
      fc.property(fc.array(iniLine, { maxLength: 8 }), fc.dictionary(option, value, { maxKeys: 3 }), fc.dictionary(option, value, { maxKeys: 3 }), (lines, env, flags) => {
        const fleetEnv = Object.fromEntries(Object.entries(env).map(([k, v]) => [`FLEET_${k.toUpperCase()}`, v]));
        try {
          loadConfig({ fileText: lines.join('\n'), env: fleetEnv, flags });
        } catch (err) {
          expect(err).toBeInstanceOf(FleetError);
          expect((err as FleetError).message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 3_000 },
    );
  });
});
