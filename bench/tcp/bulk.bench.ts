// The TCP core's own cost, without the graph: two stacks back to back through an in-memory
// wire (no checksums — what a device offload would leave — no IP), one bulk connection, the
// receiver's app draining its rx FIFO as data arrives. One call moves 256 data segments from
// the sender's tx FIFO to the receiver's app, with every ACK and the delayed-ACK timer
// handled; the figure is ns per data segment, all of input, output, ACK processing and FIFO
// copies on both sides, and the goodput that implies on one core. MSS 1460 (MTU 1500) and
// 8960 (MTU 9000); 4 MiB FIFOs. The report checks the steady state allocates nothing but
// the FIFO copies' views.

import { Fifo } from '../../src/svm/fifo.ts';
import { TcpConnection, TcpState } from '../../src/tcp/connection.ts';
import { TcpStack, type TcpEvents, type TcpSegmentSink } from '../../src/tcp/stack.ts';
import { TimerWheel } from '../../src/vlib/timer-wheel.ts';
import { allocationCheck, benchReport, runIfMain, vectorBench } from '../harness.ts';

const SEGMENTS = 256;
const SLOTS = 4096;
const SLOT_BYTES = 9216;

/** One direction of the wire: a ring of fixed slots in one array. */
class Wire implements TcpSegmentSink {
  readonly bytes = new Uint8Array(SLOTS * SLOT_BYTES);
  readonly lengths = new Int32Array(SLOTS);
  head = 0;
  tail = 0;
  reserve(room: number): number {
    if (room > SLOT_BYTES || this.tail - this.head >= SLOTS) return -1;
    return (this.tail % SLOTS) * SLOT_BYTES;
  }
  send(length: number): void {
    this.lengths[this.tail % SLOTS] = length;
    this.tail++;
  }
}

interface Setup {
  run: () => void;
  payloadPerSegment: number;
}

function setup(mss: number): Setup {
  let now = 0;
  const clock = (): number => now;
  const wheels = [new TimerWheel(), new TimerWheel()];
  const wires = [new Wire(), new Wire()];
  const readBuffer = new Uint8Array(1 << 20);
  const source = new Uint8Array(1 << 22);
  for (let i = 0; i < source.length; i++) source[i] = i * 13;
  let receiver: TcpConnection | null = null;
  let delivered = 0;
  const stacks: TcpStack[] = [];
  const events = (side: number): TcpEvents => ({
    incoming: (_listener, child) => {
      child.rxFifo = Fifo.create(4 << 20);
      child.txFifo = Fifo.create(4 << 20);
      receiver = child;
      return true;
    },
    accepted: () => {},
    connected: () => {},
    connectFailed: () => {},
    received: (c) => {
      let n: number;
      while ((n = c.rxFifo!.dequeue(readBuffer, 0, readBuffer.length)) > 0) delivered += n;
      stacks[side].received(c);
    },
    sendSpace: () => {},
    peerClosed: () => {},
    reset: () => {},
    closed: () => {},
  });
  for (let side = 0; side < 2; side++) {
    stacks.push(new TcpStack({
      timers: wheels[side], sink: wires[side], events: events(side), clock,
      config: { mss, congestionControl: 'cubic', isnSecret: new Uint8Array(16) },
    }));
  }
  const [a, b] = stacks;
  b.listen({ localAddress: 2, localPort: 80 });
  const client = a.connect({
    localAddress: 1, localPort: 1000, remoteAddress: 2, remotePort: 80, rxFifo: Fifo.create(4 << 20), txFifo: Fifo.create(4 << 20),
  });
  const lookup = (side: number, bytes: Uint8Array, offset: number): TcpConnection | null => {
    if (side === 0) return client;
    if (receiver !== null && receiver.state !== TcpState.FREE) return receiver;
    return b.connection(0) ?? null;
  };
  /** Delivers everything on both wires (one pass each way per round) until both are empty. */
  const pumpWires = (): void => {
    for (;;) {
      let moved = 0;
      for (let side = 0; side < 2; side++) {
        const wire = wires[side];
        const to = 1 - side;
        while (wire.head < wire.tail) {
          const slot = wire.head % SLOTS;
          const offset = slot * SLOT_BYTES;
          wire.head++;
          stacks[to].input(lookup(to, wire.bytes, offset), wire.bytes, offset, wire.lengths[slot], side + 1, to + 1);
          moved++;
        }
      }
      if (moved === 0) return;
    }
  };
  pumpWires();
  if (client.state !== TcpState.ESTABLISHED) throw new Error('bench handshake failed');
  let sourceAt = 0;
  const payload = client.smss;
  const run = (): void => {
    const target = delivered + SEGMENTS * payload;
    while (delivered < target) {
      const fifo = client.txFifo!;
      const want = target - delivered;
      const room = fifo.maxEnqueue();
      let n = want < room ? want : room;
      if (sourceAt + n > source.length) sourceAt = 0;
      if (n > source.length - sourceAt) n = source.length - sourceAt;
      sourceAt += fifo.enqueue(source, sourceAt, n);
      a.send(client);
      pumpWires();
      // Time moves 1 ms per round: delayed ACKs and RTT samples behave as on a fast link.
      now += 1;
      wheels[0].advance(now, (h) => a.timerExpired(h));
      wheels[1].advance(now, (h) => b.timerExpired(h));
      pumpWires();
    }
  };
  return { run, payloadPerSegment: payload };
}

for (const mss of [1460, 8960]) {
  vectorBench(() => {
    const { run, payloadPerSegment } = setup(mss);
    return {
      name: `tcp bulk, two stacks back to back, mss ${mss}`,
      vector: SEGMENTS,
      packets: SEGMENTS,
      run,
      note: (ns: number) => `${((payloadPerSegment * 8) / ns).toFixed(2)} Gbit/s goodput of the TCP core alone (${payloadPerSegment} B/segment)`,
    };
  });
}

benchReport(async () => {
  const lines: string[] = [];
  for (const mss of [1460, 8960]) {
    const { run } = setup(mss);
    const { heapDeltaBytes, gcCount } = await allocationCheck(run, 2000);
    lines.push(`tcp bulk mss ${mss} steady state (2000 × ${SEGMENTS} segments): heap ${(heapDeltaBytes / 1024).toFixed(1)} KiB, ${gcCount} GCs`);
  }
  return lines;
});

await runIfMain(import.meta.url);
