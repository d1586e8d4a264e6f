// tcp4-reset on resets as the TCP core writes them for segments to closed ports: 20 bytes of
// TCP header, the IPv4 header pushed in front and the checksum offloaded (tcp4-output's work
// under its own name). The header's first 20 bytes are put back before each call (the node
// writes the pseudo-header sum into the checksum field).

import { BufferFlag } from '../../src/vlib/buffer-pool.ts';
import { emitTcpHeader, newTcpOptions, TcpFlags } from '../../src/wire/tcp.ts';
import tcp4Reset from '../../nodes/tcp4-reset.ts';
import { nodeBench } from '../node-bench.ts';
import { runIfMain } from '../harness.ts';

const reset = new Uint8Array(20);
emitTcpHeader({ srcPort: 81, dstPort: 40000, sequenceNumber: 0, acknowledgmentNumber: 1001, flags: TcpFlags.RST | TcpFlags.ACK, window: 0, checksum: 0, urgentPointer: 0, options: newTcpOptions() }, reset, 0);

nodeBench(tcp4Reset, {
  name: 'tcp4-reset (RST for a closed port)',
  restoreMetadata: 'all',
  restoreBytes: 20,
  packets: () => [{
    bytes: reset,
    advance: 0,
    flags: BufferFlag.LOCALLY_ORIGINATED,
    // opaque: adjacency, fib, icmp error, local address, remote address
    opaque: [0, 0, 0, 0x0a0a0101, 0x0a0a0102, 0],
  }],
});

await runIfMain(import.meta.url);
