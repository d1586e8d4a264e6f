// TCP over a bad link, in one engine: the two VRFs of test/session/topology.ts joined by
// their veth pair, with the nsim plugin on the output of BOTH ends (so data and ACKs both
// suffer) — 1 ms one-way delay, 5 % loss, 5 % reordering, 1 % duplication, a fixed seed —
// and the builtin echo apps driven through the CLI as a user would. The echo must come
// back byte-exact (the client checks every byte against its stream) with newreno and with
// cubic, and `show tcp stats` must show the retransmissions that took; the same transfer
// over the clean link needs none.
//
// Size: 64 MiB each way in every case. The clean runs take 0.1–0.7 s each here; the impaired
// ones 28–40 s: with 5 % loss each way and a 2–3 ms RTT, TCP's loss-limited rate (about
// MSS / RTT · 1.22 / √p) is a few MB/s, and ≈ 30 retransmission timeouts remain per run
// (tail loss probes and lost-retransmission detection repair the rest sooner).
// `VECNET_IMPAIRED_BYTES=<n>[k|m|g]` runs another size; `VECNET_NSIM_SEED=<n>` replays
// another seed (the seed is in every message).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPlugins, type Engine } from '../../src/index.ts';
import nsim from '../../plugins/nsim/index.ts';
import { SERVER_IP, twoVrfs } from './topology.ts';

function size(text: string): number {
  const m = /^(\d+)([kmg]?)$/i.exec(text);
  if (m === null) throw new Error(`bad size '${text}' (expected <n>[k|m|g])`);
  return Number(m[1]) * 1024 ** ('.kmg'.indexOf(m[2].toLowerCase() || '.'));
}

const CLEAN_BYTES = 64 << 20;
const IMPAIRED_BYTES = size(process.env.VECNET_IMPAIRED_BYTES ?? '64m');
const SEED = Number(process.env.VECNET_NSIM_SEED ?? 20240601);
const IMPAIRMENT = `delay 1 ms drop-fraction 0.05 reorder-fraction 0.05 duplicate-fraction 0.01 seed ${SEED}`;

/** `show tcp stats` as a map from counter words to value (zeros are not printed). */
function tcpStats(vm: Engine): Map<string, number> {
  const stats = new Map<string, number>();
  for (const line of vm.cli('show tcp stats').split('\n').slice(1)) {
    const m = /^ (\d+) (.+)$/.exec(line);
    assert.ok(m !== null, `unexpected show tcp stats line '${line}'`);
    stats.set(m[2], Number(m[1]));
  }
  return stats;
}

interface EchoRun {
  readonly out: string;
  readonly stats: Map<string, number>;
  readonly nsim: Record<string, number> | null;
}

async function echo(cc: 'newreno' | 'cubic', bytes: number, impaired: boolean): Promise<EchoRun> {
  const { vm } = twoVrfs({ cc });
  await loadPlugins(vm, [nsim]);
  if (impaired) {
    vm.cli(`set nsim ${IMPAIRMENT}`);
    vm.cli('nsim output-feature enable-disable left');
    vm.cli('nsim output-feature enable-disable right');
  }
  vm.start();
  try {
    vm.cli(`test echo server uri tcp://${SERVER_IP}/1234 appns server secret 1234`);
    const out = await vm.cliAsync(`test echo clients uri tcp://${SERVER_IP}/1234 bytes ${bytes} appns client secret 5678 test-timeout 170`);
    const counters = impaired ? (JSON.parse(vm.cli('show nsim --json')) as { counters: Record<string, number> }).counters : null;
    return { out, stats: tcpStats(vm), nsim: counters };
  } finally {
    vm.stop();
  }
}

function assertByteExact(run: EchoRun, bytes: number, what: string): void {
  assert.doesNotMatch(run.out, /error:/, `${what}: ${run.out}`);
  assert.match(run.out, /^Finished 1 of 1 connections$/m, `${what}: ${run.out}`);
  // Sent plus echoed: every byte both ways (the client checked each against its stream).
  assert.match(run.out, new RegExp(`^${2 * bytes} bytes \\(`, 'm'), `${what}: ${run.out}`);
}

for (const cc of ['newreno', 'cubic'] as const) {
  test(`clean link, ${cc}: 64 MiB echoed byte-exact both ways, no loss recovery`, { timeout: 60_000 }, async () => {
    const run = await echo(cc, CLEAN_BYTES, false);
    assertByteExact(run, CLEAN_BYTES, `clean ${cc}`);
    // Nothing is lost, so nothing is recovered. A tail loss probe may still go out when the
    // engine is held up (a loaded machine) past the probe timeout with the ACK waiting in a
    // queue: it is sent once more, not recovered, and is all that may be retransmitted.
    const stats = run.stats;
    assert.equal((stats.get('fast retransmits') ?? 0) + (stats.get('timeouts') ?? 0), 0, `a lossless in-engine link needed loss recovery: ${[...stats]}`);
    assert.equal(stats.get('segments retransmitted') ?? 0, stats.get('tail loss probes') ?? 0, `retransmissions other than probes: ${[...stats]}`);
  });

  test(`nsim on both ends (${IMPAIRMENT}), ${cc}: ${IMPAIRED_BYTES >> 20} MiB echoed byte-exact both ways, retransmissions in show tcp stats`, { timeout: 180_000 }, async () => {
    const run = await echo(cc, IMPAIRED_BYTES, true);
    const what = `impaired ${cc}, seed ${SEED}`;
    assertByteExact(run, IMPAIRED_BYTES, what);
    const stats = run.stats;
    const nsimCounters = run.nsim!;
    // The link did what it was told, on packets of this connection …
    assert.ok(nsimCounters.loss > 0 && nsimCounters.reordered > 0 && nsimCounters.duplicated > 0, `${what}: nsim ${JSON.stringify(nsimCounters)}`);
    assert.equal(nsimCounters.full, 0, `${what}: the rings overflowed`);
    // … and TCP repaired it: retransmissions, by fast retransmit and by timeout.
    assert.ok((stats.get('segments retransmitted') ?? 0) > 0, `${what}: no retransmission in ${[...stats]}`);
    assert.ok((stats.get('fast retransmits') ?? 0) > 0, `${what}: no fast retransmit in ${[...stats]}`);
    assert.ok((stats.get('bytes retransmitted') ?? 0) > 0, `${what}: ${[...stats]}`);
    // Duplicates and reordering were seen by the receivers.
    assert.ok((stats.get('out of order segments') ?? 0) > 0, `${what}: ${[...stats]}`);
  });
}
