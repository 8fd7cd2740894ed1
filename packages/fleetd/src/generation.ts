/**
 * `@fleet/fleetd/generation`: one fleetd's components (presence, agent, state publisher, engine) as
 * fleetd wires them, and its configuration, for harnesses that run many simulated fleetds in one
 * process over a fake systemd (`npm run bench:scale`). fleetd itself is its bin.
 */
export { FleetdGeneration, type GenerationDeps } from './fleetd-generation.js';
export { configDefaults, loadConfig, type FleetdConfig } from './config.js';
