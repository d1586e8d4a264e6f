// udp4-output on datagrams as the session layer stages them: the UDP header with its
// checksum over the payload and the IPv4 header pushed in front. Two sizes: an empty
// datagram and 1400 bytes (the echo apps' size), where the checksum pass is the cost.

import { BufferFlag } from '../../src/vlib/buffer-pool.ts';
import udp4Output from '../../nodes/udp4-output.ts';
import { nodeBench } from '../node-bench.ts';
import { runIfMain } from '../harness.ts';

const PORTS = ((49152 << 16) | 5000) >>> 0;

for (const payload of [0, 1400]) {
  nodeBench(udp4Output, {
    name: `udp4-output (${payload} B)`,
    restoreMetadata: 'all',
    packets: () => [{
      bytes: new Uint8Array(payload).fill(0x5a),
      advance: 0,
      flags: BufferFlag.LOCALLY_ORIGINATED,
      // opaque: adjacency, fib, icmp error, local address, remote address, ports
      opaque: [0, 0, 0, 0x0a0a0101, 0x0a0a0102, PORTS],
    }],
  });
}

await runIfMain(import.meta.url);
