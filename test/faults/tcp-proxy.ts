import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy between one fleetd and etcd that the test can cut, as a network partition does: cut,
 * every open connection goes silent (kept open, nothing forwarded either way, like dropped packets)
 * and new ones are accepted and left silent too; healed, the silent connections are closed (their
 * client reconnects) and new ones are forwarded again. etcd itself stays up for everybody else.
 */
export class PartitionProxy {
  private readonly server: Server;
  private readonly pairs = new Set<{ client: Socket; upstream: Socket | undefined }>();
  private cut = false;

  private constructor(private readonly target: { host: string; port: number }) {
    this.server = createServer((client) => this.accept(client));
  }

  /** Listens on 127.0.0.1 (a free port) and forwards to `targetUrl` (etcd's client URL). */
  static async start(targetUrl: string): Promise<PartitionProxy> {
    const url = new URL(targetUrl);
    const proxy = new PartitionProxy({ host: url.hostname, port: Number(url.port) });
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  /** The URL a fleetd gives as `etcd_servers` to reach etcd through the proxy. */
  get url(): string {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy not listening');
    return `http://127.0.0.1:${address.port}`;
  }

  /** Open client connections (forwarded or silent). */
  get connections(): number {
    return this.pairs.size;
  }

  /** Partitions: from now on nothing passes. */
  partition(): void {
    this.cut = true;
    for (const pair of this.pairs) {
      // Silence, not a reset: the client must find out by its own timeouts.
      pair.client.unpipe();
      pair.upstream?.unpipe();
      pair.client.pause();
      pair.upstream?.destroy();
      pair.upstream = undefined;
    }
  }

  /** Heals: the silent connections are closed, new ones are forwarded. */
  heal(): void {
    this.cut = false;
    for (const pair of [...this.pairs]) {
      if (pair.upstream === undefined) {
        pair.client.destroy();
        this.pairs.delete(pair);
      }
    }
  }

  async stop(): Promise<void> {
    for (const pair of this.pairs) {
      pair.client.destroy();
      pair.upstream?.destroy();
    }
    this.pairs.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    const pair: { client: Socket; upstream: Socket | undefined } = { client, upstream: undefined };
    this.pairs.add(pair);
    const forget = (): void => {
      pair.upstream?.destroy();
      this.pairs.delete(pair);
    };
    client.on('error', forget).on('close', forget);
    if (this.cut) {
      client.pause();
      return;
    }
    const upstream = connect(this.target.port, this.target.host);
    pair.upstream = upstream;
    upstream.on('error', () => client.destroy()).on('close', () => {
      if (pair.upstream === upstream) client.destroy();
    });
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
