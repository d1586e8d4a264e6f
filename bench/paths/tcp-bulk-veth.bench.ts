// TCP through the whole graph on one core: the builtin echo apps over a veth pair between two
// VRFs (test/session/topology.ts) — client → tcp4-output → ip4-lookup → ip4-rewrite → veth →
// ethernet-input → ip4-input → ip4-local → tcp4-input → server app, and the echo back —
// 64 MiB each way on one connection, MTU 1500 and 9000, newreno and cubic, reported as
// Gbit/s of payload per direction; next to node:net over the kernel's loopback in the same
// run (one process, echo server and client on one event loop, the same 64 MiB each way).
//
// Steady state, as a long-running engine sees it: a 32 MiB echo of each case first warms the
// JIT (V8 re-optimizes the TCP and FIFO paths while the first transfers run: the first two are
// 2–3× slower than the next), then each case runs RUNS times, interleaved with node:net, and
// the median is reported with the range. The machine is shared: quote the ratios.
// The veth pair offloads TCP checksums and coalesces segments (src/vnet/devices/veth-pair.ts);
// the last line shows the same MTU 1500 case with coalescing off.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { runEchoClients } from '../../src/apps/echo.ts';
import { benchReport, runIfMain } from '../harness.ts';
import { nodeNetEchoGbps } from './node-net.ts';
import { SERVER_IP, twoVrfs } from '../../test/session/topology.ts';

const BYTES = 64 << 20;
const RUNS = 3;

// A full collection before each measured transfer: the engine before it leaves a buffer pool
// and FIFO segments of hundreds of MB to reclaim, which otherwise lands in the next run.
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

async function vecnet(cc: 'newreno' | 'cubic', mtu: number, coalesce = true, bytes = BYTES): Promise<number> {
  collect();
  const { vm } = twoVrfs({ cc, mtu, engine: { dataSize: mtu > 2000 ? 9216 : 2048, buffers: 32768 } });
  vm.vnet.devices.veths.coalesce = coalesce;
  vm.start();
  try {
    vm.cli(`test echo server uri tcp://${SERVER_IP}/1234 fifo-size 4m appns server secret 1234`);
    const r = await runEchoClients(vm, { uri: `tcp://${SERVER_IP}/1234`, bytes, fifoSize: 4 << 20, namespace: 'client', secret: 5678, testTimeoutS: 120 });
    if (r.errors.length > 0) throw new Error(r.errors.join('; '));
    return (bytes * 8) / r.seconds / 1e9;
  } finally {
    vm.stop();
  }
}

async function nodeNet(): Promise<number> {
  collect();
  return nodeNetEchoGbps(BYTES);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

function figure(values: number[]): string {
  return `${median(values).toFixed(2)} Gbit/s per direction (median of ${values.length}: ${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)})`;
}

benchReport(async () => {
  const cases: { cc: 'newreno' | 'cubic'; mtu: number; coalesce: boolean }[] = [];
  for (const mtu of [1500, 9000]) for (const cc of ['newreno', 'cubic'] as const) cases.push({ cc, mtu, coalesce: true });
  cases.push({ cc: 'cubic', mtu: 1500, coalesce: false });
  await nodeNet();
  for (const c of cases) await vecnet(c.cc, c.mtu, c.coalesce, 32 << 20);
  const kernel: number[] = [];
  const results = cases.map(() => [] as number[]);
  for (let run = 0; run < RUNS; run++) {
    for (let k = 0; k < cases.length; k++) results[k].push(await vecnet(cases[k].cc, cases[k].mtu, cases[k].coalesce));
    kernel.push(await nodeNet());
  }
  const base = median(kernel);
  const lines = [`node:net echo over kernel loopback, 64 MiB each way: ${figure(kernel)}`];
  cases.forEach((c, k) => {
    const g = median(results[k]);
    const what = `${c.cc}, MTU ${c.mtu}${c.coalesce ? '' : ', veth coalescing off'}`;
    lines.push(`vecnet TCP echo over veth (2 VRFs, ${what}), 64 MiB each way: ${figure(results[k])} (${(g / base).toFixed(2)}× node:net)`);
  });
  return lines;
});

await runIfMain(import.meta.url);
