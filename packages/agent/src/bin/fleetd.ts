#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { configDefaults, FleetError, jsonLogger, loadConfig } from '@fleet/engine';
import { fleetdVersion, startFleetd } from '../fleetd.js';

const usage = `Usage: fleetd [--config FILE] [--OPTION=VALUE ...]

Options are fleet.conf's (e.g. --etcd_servers, --metadata, --agent_ttl); precedence is
flags > FLEET_<OPTION> environment > config file > defaults. Default config: /etc/fleet/fleet.conf.
Known options: ${Object.keys(configDefaults).join(', ')}`;

async function main(): Promise<number> {
  const options: Record<string, { type: 'string' }> = { config: { type: 'string' } };
  for (const key of Object.keys(configDefaults)) {
    options[key] = { type: 'string' };
    options[key.replace(/_/g, '-')] = { type: 'string' };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: process.argv.slice(2), options: { ...options, help: { type: 'boolean' }, version: { type: 'boolean' } }, strict: true });
  } catch (err) {
    process.stderr.write(`fleetd: ${(err as Error).message}\n${usage}\n`);
    return 2;
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values['help'] === true) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  if (values['version'] === true) {
    process.stdout.write(`fleetd version ${fleetdVersion}\n`);
    return 0;
  }
  const configPath = typeof values['config'] === 'string' ? values['config'] : '/etc/fleet/fleet.conf';
  let fileText: string | undefined;
  try {
    fileText = readFileSync(configPath, 'utf8');
  } catch (err) {
    if (values['config'] !== undefined) {
      process.stderr.write(`fleetd: cannot read config file ${configPath}: ${(err as Error).message}\n`);
      return 2;
    }
  }
  const flags: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    if (typeof value === 'string' && key !== 'config') flags[key.replace(/-/g, '_')] = value;
  }
  let config;
  try {
    config = loadConfig({ ...(fileText === undefined ? {} : { fileText }), env: process.env, flags });
  } catch (err) {
    process.stderr.write(`fleetd: ${(err as Error).message}\n`);
    return 2;
  }
  const log = jsonLogger(process.stderr, config.verbosity > 0 ? 'debug' : 'info');
  let fleetd;
  try {
    fleetd = await startFleetd(config, log);
  } catch (err) {
    process.stderr.write(`fleetd: cannot start: ${(err as Error).message}\n`);
    return err instanceof FleetError && err.code === 'INVALID_CONFIG' ? 2 : 1;
  }
  const stop = (): void => {
    log.info('shutting down');
    void fleetd.stop().catch(() => undefined);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    await fleetd.done;
    return 0;
  } catch (err) {
    log.error('fleetd failed', { err });
    return 1;
  }
}

process.exitCode = await main();
