import { describe, expect, it } from 'vitest';
import { benchTable, quantile, summarise, type Sample } from './stats.js';
import { requestCount, unitOptions } from './subject.js';

describe('bench statistics', () => {
  it('takes nearest-rank quantiles', () => {
    expect(quantile([5, 1, 3, 2, 4], 0.5)).toBe(3);
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(quantile(Array.from({ length: 100 }, (_, i) => i + 1), 0.99)).toBe(99);
    expect(quantile([], 0.5)).toBeNaN();
    expect(summarise([3, 1, 2])).toEqual({ n: 3, min: 1, median: 2, p99: 3, max: 3 });
  });

  it('prints one row per measurement with both subjects and the ratio of the medians', () => {
    const s = (subject: string, value: number, measurement = 'one unit'): Sample => ({ measurement, subject, run: 0, value, unit: 'ms' });
    const table = benchTable([s('ours', 100), s('ours', 120), s('fleet', 3500), s('fleet', 3300), { ...s('ours', 2, 'left'), unit: 'count' }, { ...s('fleet', 6, 'left'), unit: 'count' }], ['one unit', 'left', 'absent'], ['ours', 'fleet']);
    expect(table.split('\n')).toEqual([
      'measurement  unit   ours n  ours min  ours median  ours max  fleet n  fleet min  fleet median  fleet max  ratio fleet/ours',
      'one unit     ms          2       100          100       120        2       3300          3300       3500             33.0x',
      'left         count       1         2            2         2        1          6             6          6              3.0x',
    ]);
  });
});

describe('etcd request counters', () => {
  it('adds v3 gRPC calls and v2 HTTP requests, and nothing else', () => {
    const page = [
      '# HELP grpc_server_started_total Total number of RPCs started on the server.',
      'grpc_server_started_total{grpc_method="Range",grpc_service="etcdserverpb.KV",grpc_type="unary"} 120',
      'grpc_server_started_total{grpc_method="LeaseKeepAlive",grpc_service="etcdserverpb.Lease",grpc_type="bidi_stream"} 3',
      'etcd_http_received_total{method="GET"} 40',
      'etcd_http_received_total{method="PUT"} 2',
      'grpc_server_handled_total{grpc_code="OK",grpc_method="Range"} 119',
      'etcd_server_proposals_committed_total 999',
    ].join('\n');
    expect(requestCount(page)).toBe(165);
  });

  it('gives the API a unit file\'s options in order, repeated keys kept', () => {
    expect(unitOptions('[Unit]\nDescription=x\n[Service]\nExecStartPre=/bin/a\nExecStartPre=/bin/b\n')).toEqual([
      { section: 'Unit', name: 'Description', value: 'x' },
      { section: 'Service', name: 'ExecStartPre', value: '/bin/a' },
      { section: 'Service', name: 'ExecStartPre', value: '/bin/b' },
    ]);
  });
});
