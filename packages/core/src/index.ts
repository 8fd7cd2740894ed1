export { systemClock, type Clock } from './clock.js';
export { FleetError, InvalidConfigError, InvalidUnitNameError, RegistryUnavailableError, SystemdError, assertNever, type FleetErrorCode } from './errors.js';
export { silentLogger, type LogFields, type LogLevel, type Logger } from './log.js';
export { Wakeup, mergeWakeups, runLoop } from './loop.js';
export { backoffDelay, retry, type BackoffPolicy, type RetryEvent, type RetryOptions } from './retry.js';
