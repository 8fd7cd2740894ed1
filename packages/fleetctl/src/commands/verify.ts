import type { CommandModule } from 'yargs';
import { DeprecatedFeatureError, signedUnitsDeprecated } from '../cli-errors.js';
import type { GlobalArgs } from './context.js';

/**
 * `fleetctl verify UNIT`: deprecated in fleet ("DEPRECATED - No longer works"), listed in its help
 * without a description; prints fleet's lines and exits 2 without contacting the API, whatever
 * the arguments.
 */
export function verifyCommand(): CommandModule<GlobalArgs, GlobalArgs> {
  return {
    command: 'verify [units..]',
    describe: 'DEPRECATED - No longer works',
    handler: () => {
      throw new DeprecatedFeatureError(signedUnitsDeprecated);
    },
  };
}
