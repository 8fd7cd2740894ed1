#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { configDefaults, loadConfig, type FleetdConfig } from '../config.js';
import { FleetError, type LogLevel } from '@fleet/core';
import { fleetdVersion, startFleetd, type RunningFleetd, type ShutdownMode } from '../fleetd.js';
import { pinoLogger, stderrDestination } from '../pino-logger.js';

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
  const flags: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    if (typeof value === 'string' && key !== 'config') flags[key.replace(/-/g, '_')] = value;
  }
  // The same sources at start and at every reload: the file may have changed, flags and env not.
  const readConfig = (): FleetdConfig => {
    let fileText: string | undefined;
    try {
      fileText = readFileSync(configPath, 'utf8');
    } catch (err) {
      if (values['config'] !== undefined) throw new Error(`cannot read config file ${configPath}: ${(err as Error).message}`, { cause: err });
    }
    return loadConfig({ ...(fileText === undefined ? {} : { fileText }), env: process.env, flags });
  };
  let config;
  try {
    config = readConfig();
  } catch (err) {
    process.stderr.write(`fleetd: ${(err as Error).message}\n`);
    return 2;
  }
  let level: LogLevel = levelOf(config);
  const log = pinoLogger(stderrDestination(), () => level);
  let fleetd: RunningFleetd;
  try {
    fleetd = await startFleetd(config, log);
  } catch (err) {
    process.stderr.write(`fleetd: cannot start: ${(err as Error).message}\n`);
    // A half-built fleetd may leave a socket or timer behind: a start that failed ends the process
    // (stderr to a pipe or file is written synchronously, so the message is out).
    process.exit(err instanceof FleetError && err.code === 'INVALID_CONFIG' ? 2 : 1);
  }
  // SIGHUP: fleet's reload. A file that does not load is reported and changes nothing.
  process.on('SIGHUP', () => {
    log.info('reloading configuration', { file: configPath });
    let next;
    try {
      next = readConfig();
    } catch (err) {
      log.error('cannot reload the configuration; keeping the running one', { file: configPath, err });
      return;
    }
    fleetd.reload(next).then(
      (plan) => (level = levelOf(plan.config)),
      (err: unknown) => log.error('reload failed', { err }),
    );
  });
  // SIGTERM/SIGINT: fleet's graceful stop (units stopped and moved), or a hand-over if configured;
  // SIGUSR2: a hand-over this once (restart or upgrade without touching the units). A second
  // signal of the same kind ends the process at once.
  const stop = (mode?: ShutdownMode) => (): void => {
    void fleetd.stop(mode).catch(() => undefined);
  };
  process.once('SIGTERM', stop());
  process.once('SIGINT', stop());
  process.once('SIGUSR2', stop('hand-over'));
  try {
    await fleetd.done;
    return 0;
  } catch (err) {
    log.error('fleetd failed', { err });
    return 1;
  }
}

function levelOf(config: FleetdConfig): LogLevel {
  return config.verbosity > 0 ? 'debug' : 'info';
}

process.exitCode = await main();
