// Cut-through between two apps of one engine in one namespace (FIFO to FIFO, no TCP, no
// graph) next to node:net over the kernel's loopback, measured in the same run:
//   - bulk: the builtin echo apps, 64 MiB each way on one connection with 4 MiB FIFOs,
//     Gbit/s of payload per direction;
//   - round trip: a 64-byte message echoed back, mean over 20 000 rounds, µs;
// with the ratios the targets are stated in (≥ 3× the throughput, ≤ 1/3 the latency).

import { createEngine } from '../../src/index.ts';
import { hostStackOf } from '../../src/host-stack.ts';
import { runEchoClients, startEchoServer } from '../../src/apps/echo.ts';
import type { Session } from '../../src/session/host-stack.ts';
import { benchReport, runIfMain } from '../harness.ts';
import { nodeNetEchoGbps, nodeNetRoundTripUs } from './node-net.ts';

const BYTES = 64 << 20;
const ROUNDS = 20000;
const MESSAGE = 64;
const ADDRESS = '10.0.9.1';

function engine() {
  const vm = createEngine({ buffers: 4096 });
  for (const line of ['session enable', 'create loopback interface', 'set interface state loop0 up', `set interface ip address loop0 ${ADDRESS}/24`]) vm.cli(line);
  return vm;
}

async function cutThroughGbps(): Promise<number> {
  const vm = engine();
  startEchoServer(vm, { uri: `tcp://${ADDRESS}/1234`, fifoSize: 4 << 20 });
  const r = await runEchoClients(vm, { uri: `tcp://${ADDRESS}/1234`, bytes: BYTES, fifoSize: 4 << 20 });
  if (r.errors.length > 0) throw new Error(r.errors.join('; '));
  return (BYTES * 8) / r.seconds / 1e9;
}

async function cutThroughRoundTripUs(): Promise<number> {
  const vm = engine();
  const host = hostStackOf(vm);
  startEchoServer(vm, { uri: `tcp://${ADDRESS}/1235` });
  const message = new Uint8Array(MESSAGE).fill(0x42);
  const scratch = new Uint8Array(MESSAGE);
  let start = 0;
  let done = 0;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const app = host.attach({
    name: 'pinger',
    callbacks: {
      connected: (s: Session) => {
        s.txFifo!.enqueue(message, 0, MESSAGE);
        host.send(s);
      },
      rx: (s: Session) => {
        while (s.rxFifo!.maxDequeue() >= MESSAGE) {
          s.rxFifo!.dequeue(scratch, 0, MESSAGE);
          done++;
          if (done === 1) start = performance.now();
          if (done === ROUNDS + 1) return finish();
          s.txFifo!.enqueue(message, 0, MESSAGE);
          host.send(s);
        }
        host.rxConsumed(s);
      },
    },
  });
  vm.start();
  host.connect(app, (10 << 24) | (9 << 8) | 1, 1235);
  vm.wake();
  await finished;
  const us = ((performance.now() - start) * 1000) / ROUNDS;
  vm.stop();
  return us;
}

benchReport(async () => {
  const kernelGbps = await nodeNetEchoGbps(BYTES);
  const ctGbps = await cutThroughGbps();
  const kernelUs = await nodeNetRoundTripUs(ROUNDS, MESSAGE);
  const ctUs = await cutThroughRoundTripUs();
  return [
    `node:net echo over kernel loopback, 64 MiB each way: ${kernelGbps.toFixed(2)} Gbit/s per direction`,
    `vecnet cut-through echo, 64 MiB each way: ${ctGbps.toFixed(2)} Gbit/s per direction (${(ctGbps / kernelGbps).toFixed(2)}× node:net; target ≥ 3×)`,
    `node:net round trip over kernel loopback, ${MESSAGE} B: ${kernelUs.toFixed(2)} µs`,
    `vecnet cut-through round trip, ${MESSAGE} B: ${ctUs.toFixed(2)} µs (${(ctUs / kernelUs).toFixed(2)}× node:net; target ≤ 0.33×)`,
  ];
});

await runIfMain(import.meta.url);
