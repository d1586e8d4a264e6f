// Bulk transfer between two stacks over the in-memory network: 16 MiB one way (and 1 MiB
// the other way at the same time, so data segments carry ACKs and SACK blocks too), on a
// 1 Gbit/s link with 1 ms one-way delay that drops 5 %, reorders 5 % and duplicates 1 % of
// segments in both directions, seeded so a failure replays. Byte-exact with NewReno and with
// CUBIC; NewReno without SACK (RFC 6582 alone) on a smaller transfer. Each run reports its
// virtual time, goodput and retransmissions, and the CPU time it took.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TcpState } from '../../src/tcp/connection.ts';
import type { CongestionControlName } from '../../src/tcp/congestion.ts';
import { checkAll, Net, PORT_A, PORT_B, streamBytes } from './helpers.ts';

const MiB = 1 << 20;

interface Run {
  cc: CongestionControlName;
  sack: boolean;
  up: number;
  down: number;
  seed: number;
}

function transfer(run: Run, diagnostic: (text: string) => void): void {
  const up = streamBytes(run.up, run.seed);
  const down = streamBytes(run.down, run.seed + 1);
  const net = new Net({
    fifoSize: 512 * 1024,
    impairments: { delayMs: 1, rateBps: 1e9, drop: 0.05, reorder: 0.05, duplicate: 0.01, seed: run.seed },
    config: { congestionControl: run.cc, sack: run.sack },
  });
  net.b.listen(PORT_B, { expect: up, toSend: down, shutdownWhenSent: true });
  const client = net.a.connect(net.b, PORT_B, PORT_A, { expect: down, toSend: up, shutdownWhenSent: true });
  const started = performance.now();
  const done = net.run(() => client.state === TcpState.FREE || client.state === TcpState.TIME_WAIT, 3_600_000);
  const cpuMs = performance.now() - started;
  assert.ok(done, `transfer did not finish: client ${client.state}, at ${net.now} ms`);
  const server = net.b.finished[0]?.app ?? net.b.app(net.b.accepted[0]);
  const clientApp = net.a.apps.get(client) ?? net.a.finished[0].app;
  assert.equal(server.receivedBytes, run.up);
  assert.equal(server.mismatchAt, -1, 'upstream bytes differ');
  assert.equal(clientApp.receivedBytes, run.down);
  assert.equal(clientApp.mismatchAt, -1, 'downstream bytes differ');
  assert.equal(net.a.badChecksums + net.b.badChecksums, 0);
  const a = net.a.stack.stats;
  const b = net.b.stack.stats;
  assert.ok(a.segmentsRetransmitted > 0 && b.segmentsRetransmitted > 0, 'losses were repaired');
  checkAll(net);
  diagnostic(
    `${run.cc}${run.sack ? '' : ' (no SACK)'}: ${run.up / MiB} MiB up + ${run.down / MiB} MiB down in ${(net.now / 1000).toFixed(2)} s virtual `
    + `(${((run.up * 8) / (net.now / 1000) / 1e6).toFixed(0)} Mbit/s up), ${cpuMs.toFixed(0)} ms CPU; `
    + `segments ${net.segmentsCarried} carried, ${net.segmentsDropped} dropped, ${net.segmentsReordered} reordered, `
    + `${net.segmentsDuplicated} duplicated; sender: ${a.segmentsRetransmitted} retransmitted, ${a.fastRetransmits} fast recoveries, `
    + `${a.timeouts} timeouts`,
  );
}

describe('tcp bulk transfer through loss, reordering and duplication', () => {
  for (const cc of ['newreno', 'cubic'] as const) {
    it(`16 MiB byte-exact with ${cc} and SACK`, (t) => {
      transfer({ cc, sack: true, up: 16 * MiB, down: MiB, seed: cc === 'cubic' ? 11 : 12 }, (text) => t.diagnostic(text));
    });
  }

  it('4 MiB byte-exact with NewReno without SACK', (t) => {
    transfer({ cc: 'newreno', sack: false, up: 4 * MiB, down: MiB / 4, seed: 13 }, (text) => t.diagnostic(text));
  });
});
