// Shared by the TCP node benches: an engine with pg0 (10.10.1.1/24) and the session layer,
// one connection established by hand (a listener on port 80, the peer 10.10.1.2:40000 with
// MSS 1460, no options beyond it), whose app drains its rx FIFO as data arrives. What the
// session layer hands to tcp4-output is freed at once (the benches measure one node).

import { createEngine } from '../../src/index.ts';
import { registerHostStack } from '../../src/host-stack.ts';
import type { HostStack, Session } from '../../src/session/host-stack.ts';
import type { Engine } from '../../src/vlib/engine.ts';
import { BufferFlag } from '../../src/vlib/buffer-pool.ts';
import { parseTcpHeader, TcpFlags } from '../../src/wire/tcp.ts';
import { tcpDatagram } from '../../test/nodes/tcp-helpers.ts';
import { callProcess } from '../node-bench.ts';

export interface TcpBench {
  vm: Engine;
  host: HostStack;
  session: Session;
  /** Our ISS + 1 and the peer's next sequence number. */
  ourSeq: number;
  peerSeq: number;
  pg0: number;
}

export function tcpBenchEngine(): TcpBench {
  const vm = createEngine({ buffers: 8192 });
  for (const line of ['create packet-generator interface pg0', 'set interface state pg0 up', 'set interface ip address pg0 10.10.1.1/24']) vm.cli(line);
  const host = registerHostStack(vm);
  vm.cli('session enable');
  const pg0 = vm.vnet.interfaces.find('pg0');
  const scratch = new Uint8Array(1 << 20);
  const app = host.attach({
    name: 'bench', rxFifoSize: 4 << 20, txFifoSize: 4 << 20,
    callbacks: {
      rx: (s) => {
        s.rxFifo!.dequeue(scratch, 0, scratch.length);
        host.rxConsumed(s);
      },
    },
  });
  host.listen(app, 0, 80);
  let synAck = -1;
  const enqueue = vm.enqueue.bind(vm);
  vm.enqueue = (name: string, buffers: ArrayLike<number>, count = buffers.length): void => {
    if (name !== 'tcp4-output') return enqueue(name, buffers, count);
    for (let i = 0; i < count; i++) {
      if (synAck < 0) {
        const h = parseTcpHeader(vm.pool.bytes, vm.pool.current[buffers[i]], vm.pool.length[buffers[i]]);
        if (h !== null && h.flags === (TcpFlags.SYN | TcpFlags.ACK)) synAck = h.sequenceNumber;
      }
      vm.pool.freeChain(buffers[i]);
    }
  };
  const feed = (datagram: Uint8Array): void => {
    const bi = vm.pool.fromBytes(datagram);
    vm.pool.rxInterface[bi] = pg0;
    vm.pool.flags[bi] |= BufferFlag.L4_CHECKSUM_CORRECT;
    const rt = vm.node('tcp4-input')!;
    const buffers = new Uint32Array(256);
    buffers[0] = bi;
    callProcess(rt.definition.process!, rt, buffers, 1, new Uint16Array(256));
  };
  feed(tcpDatagram({ flags: TcpFlags.SYN, seq: 999, options: { mss: 1460, windowScale: 10 } }));
  feed(tcpDatagram({ flags: TcpFlags.ACK, seq: 1000, ack: synAck + 1, window: 4096 }));
  const session = host.liveSessionList().find((s) => s.listenerIndex >= 0)!;
  return { vm, host, session, ourSeq: synAck + 1, peerSeq: 1000, pg0 };
}
