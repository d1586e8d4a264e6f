// Memory per idle established TCP connection (issue 6: "100 000 idle connections must fit in
// 1 GiB of heap"), through the whole graph: N connections between the two namespaces of
// test/session/topology.ts (two VRFs joined by the in-engine veth pair), opened in batches,
// then left idle. Both ends live in the engine, so N connections are 2·N TcpConnections and
// 2·N sessions; figures are per connection end (TCB + session + lookup entries + pool slots)
// and per pair. The heap is measured after full GCs (V8's heapUsed); the FIFOs are excluded:
// their bytes live in SharedArrayBuffer segments (external memory, reported apart), and the
// heap taken by their JavaScript objects (a Fifo and two views each) is measured on its own
// and subtracted. FIFOs are at their smallest (4 KiB each way) so the segments stay small.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Fifo, FifoSegment } from '../../src/svm/fifo.ts';
import { parseIp4 } from '../../src/wire/address.ts';
import { benchReport, runIfMain } from '../harness.ts';
import { SERVER_IP, twoVrfs } from '../../test/session/topology.ts';

const FIFO_SIZE = 4096;
/** Listener ports: one client address reaches one server port from 16 384 ephemeral ports. */
const PORTS = 8;
const BATCH = 500;
const GIB = 1 << 30;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

/** Heap held by the JavaScript side of `count` FIFOs (the object and its two views). */
function fifoObjectBytes(count: number): number {
  const segment = new FifoSegment(count * Fifo.bytesFor(FIFO_SIZE) + 64, 'measure');
  const keep: Fifo[] = new Array(count);
  const before = heapAfterGc();
  for (let i = 0; i < count; i++) keep[i] = segment.allocate(FIFO_SIZE);
  const after = heapAfterGc();
  if (keep.length !== count) throw new Error('unreachable');
  return (after - before) / count;
}

interface Measured {
  pairs: number;
  heapPerEnd: number;
  segmentBytes: number;
  fifoBytesUsed: number;
  setupSeconds: number;
}

function measure(pairs: number): Measured {
  const { vm, host } = twoVrfs({ engine: { buffers: 65536 } });
  const segmentSize = Math.ceil(pairs * 2 * Fifo.bytesFor(FIFO_SIZE) * 1.01) + (1 << 20);
  let accepted = 0;
  let connected = 0;
  const server = host.attach({
    name: 'idle-srv', namespace: 'server', secret: 1234, rxFifoSize: FIFO_SIZE, txFifoSize: FIFO_SIZE, segmentSize,
    callbacks: { accepted: () => accepted++ },
  });
  const client = host.attach({
    name: 'idle-cln', namespace: 'client', secret: 5678, rxFifoSize: FIFO_SIZE, txFifoSize: FIFO_SIZE, segmentSize,
    callbacks: { connected: (_s, error) => { if (error === null) connected++; } },
  });
  for (let p = 0; p < PORTS; p++) host.listen(server, 0, 5000 + p);
  const address = parseIp4(SERVER_IP)!;
  vm.runUntilIdle();
  const before = heapAfterGc();
  const start = performance.now();
  // Batches well under the SYN backlog and the veth ring, so no SYN is lost (a lost SYN costs a 1 s RTO).
  for (let i = 0; i < pairs; i += BATCH) {
    const end = Math.min(pairs, i + BATCH);
    for (let j = i; j < end; j++) host.connect(client, address, 5000 + (j % PORTS));
    vm.runUntilIdle();
  }
  vm.runUntilIdle();
  const setupSeconds = (performance.now() - start) / 1000;
  if (connected !== pairs || accepted !== pairs) throw new Error(`${connected} connected, ${accepted} accepted of ${pairs}`);
  const after = heapAfterGc();
  const fifos = server.segments.fifoCount + client.segments.fifoCount;
  const result: Measured = {
    pairs,
    heapPerEnd: (after - before) / (2 * pairs),
    segmentBytes: [server, client].reduce((sum, app) => sum + app.segments.segments.reduce((n, segment) => n + segment.buffer.byteLength, 0), 0),
    fifoBytesUsed: fifos * Fifo.bytesFor(FIFO_SIZE),
    setupSeconds,
  };
  host.detach(client);
  host.detach(server);
  vm.runUntilIdle();
  return result;
}

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(2)} KiB`;
const mib = (bytes: number): string => `${(bytes / (1 << 20)).toFixed(1)} MiB`;

benchReport(() => {
  const lines: string[] = [];
  const fifoObject = fifoObjectBytes(20_000);
  lines.push(`tcp idle memory: a FIFO's JavaScript objects take ${fifoObject.toFixed(0)} B of heap (subtracted below, 2 per connection end)`);
  for (const pairs of [10_000, 100_000]) {
    const m = measure(pairs);
    const perEnd = m.heapPerEnd - 2 * fifoObject;
    const hundredK = 100_000 * perEnd;
    lines.push(
      `tcp idle memory, ${pairs} connections (${2 * pairs} ends, veth between 2 VRFs): ` +
      `${perEnd.toFixed(0)} B of heap per connection end without FIFOs (${m.heapPerEnd.toFixed(0)} B with their objects), ` +
      `${(2 * perEnd).toFixed(0)} B per pair; 100 000 connection ends: ${mib(hundredK)} = ${((100 * hundredK) / GIB).toFixed(1)} % of 1 GiB, ` +
      `100 000 pairs: ${mib(2 * hundredK)} = ${((200 * hundredK) / GIB).toFixed(1)} %; ` +
      `FIFO bytes (SharedArrayBuffer, external): ${kib(m.fifoBytesUsed / (2 * pairs))} per end at ${FIFO_SIZE / 1024} KiB each way, ` +
      `${mib(m.fifoBytesUsed)} used of ${mib(m.segmentBytes)} of segments; set up in ${m.setupSeconds.toFixed(1)} s`,
    );
  }
  return lines;
});

await runIfMain(import.meta.url);
