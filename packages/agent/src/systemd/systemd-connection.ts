import { SystemdError, silentLogger, type Logger } from '@fleet/core';
import { Systemd1, type Systemd1Options } from './systemd1.js';

/** Options of {@link SystemdConnection.open}: where systemd's bus is and the D-Bus deadlines. */
export interface SystemdConnectionOptions extends Systemd1Options {
  readonly logger?: Logger | undefined;
}

/**
 * The one D-Bus connection of a fleetd to its systemd, shared by the unit manager and the unit
 * inspector: fleetd's composition root opens it and closes it once, at the end (the users'
 * `close()` leave it open). A connection that breaks stays broken ({@link Systemd1}); the next
 * {@link bus} call opens a new one, once however many callers ask at the same time, and
 * {@link onLost} listeners hear of every break (the manager wakes its loop with it).
 */
export class SystemdConnection {
  readonly #options: Systemd1Options;
  readonly #log: Logger;
  readonly #lostListeners = new Set<(cause: Error) => void>();
  #bus: Systemd1;
  #reconnecting: Promise<Systemd1> | undefined;
  #closed = false;

  private constructor(options: SystemdConnectionOptions, bus: Systemd1) {
    this.#options = { busAddress: options.busAddress, callTimeoutMs: options.callTimeoutMs, connectTimeoutMs: options.connectTimeoutMs };
    this.#log = options.logger ?? silentLogger;
    this.#bus = this.#adopt(bus);
  }

  /** Connects to systemd. Throws a transient `SystemdError` when the bus cannot be reached. */
  static async open(options: SystemdConnectionOptions = {}): Promise<SystemdConnection> {
    return new SystemdConnection(options, await Systemd1.connect(options));
  }

  /** The bus if it is open now, without reconnecting; undefined after a break or {@link close}. */
  get current(): Systemd1 | undefined {
    return !this.#closed && this.#bus.isOpen ? this.#bus : undefined;
  }

  /**
   * The open bus, reconnecting if the last one broke. Throws a transient `SystemdError` when systemd
   * cannot be reached, a terminal one after {@link close}.
   */
  async bus(): Promise<Systemd1> {
    if (this.#closed) throw closedError();
    if (this.#bus.isOpen) return this.#bus;
    this.#reconnecting ??= Systemd1.connect(this.#options).finally(() => {
      this.#reconnecting = undefined;
    });
    const bus = await this.#reconnecting;
    if (this.#closed) {
      bus.close();
      throw closedError();
    }
    if (this.#bus !== bus) {
      this.#bus = this.#adopt(bus);
      this.#log.info('reconnected to systemd');
    }
    return bus;
  }

  /** Runs `listener` each time the connection breaks (not on {@link close}). Returns its removal. */
  onLost(listener: (cause: Error) => void): () => void {
    this.#lostListeners.add(listener);
    return () => this.#lostListeners.delete(listener);
  }

  /** Closes the connection (and one being opened). Later {@link bus} calls throw. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#lostListeners.clear();
    this.#bus.close();
    (await this.#reconnecting?.catch(() => undefined))?.close();
  }

  #adopt(bus: Systemd1): Systemd1 {
    bus.onClose((cause) => {
      this.#log.warn('lost the D-Bus connection to systemd', { err: cause });
      for (const listener of [...this.#lostListeners]) listener(cause);
    });
    return bus;
  }
}

function closedError(): SystemdError {
  return new SystemdError('call', false, { cause: new Error('the systemd connection is closed') });
}
