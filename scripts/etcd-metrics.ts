import { httpRequest } from './local-cluster/http.js';

/** etcd's own counters, summed over their labels, from one page of its Prometheus `/metrics`. */
export interface EtcdCounters {
  /** `grpc_server_started_total`: every v3 call and stream etcd began. */
  readonly rpcs: number;
  /** `etcd_http_received_total`: every v2 (HTTP) request. */
  readonly v2Requests: number;
  /** `etcd_network_client_grpc_received_bytes_total` and `..._sent_bytes_total`. */
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/** Sums the counters in a `/metrics` page (the one parser of it the benchmarks share). */
export function parseEtcdCounters(text: string): EtcdCounters {
  const sum = (prefix: string): number => {
    let total = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith(prefix)) continue;
      const value = Number(line.slice(line.lastIndexOf(' ') + 1));
      if (Number.isFinite(value)) total += value;
    }
    return total;
  };
  return {
    rpcs: sum('grpc_server_started_total{'),
    v2Requests: sum('etcd_http_received_total{'),
    bytesIn: sum('etcd_network_client_grpc_received_bytes_total'),
    bytesOut: sum('etcd_network_client_grpc_sent_bytes_total'),
  };
}

/** Reads etcd's counters from `<clientUrl>/metrics` (which costs no RPC). */
export async function readEtcdCounters(clientUrl: string): Promise<EtcdCounters> {
  return parseEtcdCounters((await httpRequest({ url: `${clientUrl}/metrics` })).body);
}
