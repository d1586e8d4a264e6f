// ip4-local on UDP datagrams to 10.10.1.1, with a checksum to verify and without one (as
// VXLAN sends): the source check, the UDP length and checksum, the protocol dispatch. Between
// runs the flags go back (the node marks the checksum verified); that reset is measured
// alone and taken off in the note.
import { OPAQUE_WORDS } from '../../src/vlib/buffer-pool.ts';
import { OPAQUE_ADJACENCY } from '../../src/vnet/ip4-opaque.ts';
import { fillUdp4Checksum } from '../../src/wire/udp.ts';
import { runIfMain, vectorBench } from '../harness.ts';
import { prepareFrame } from '../node-bench.ts';
import { anchorEngine, datagram, nodeCases, prepare } from './ip4-bench.ts';

vectorBench(() => {
  const vm = anchorEngine();
  const rt = vm.node('ip4-local')!;
  const local = vm.vnet.loadBalances.bucketsOf(vm.vnet.fib.lookup(0, 0x0a0a0101))[0];
  const udp = Uint8Array.from([0x04, 0xd2, 0x16, 0x2e, 0, 30, 0, 0, ...Array.from({ length: 22 }, (_, i) => i)]);
  fillUdp4Checksum(udp, 0, udp.length, 0x0a0a0102, 0x0a0a0101);
  const checked = datagram({ dst: 0x0a0a0101, payload: udp });
  const unchecked = datagram({ dst: 0x0a0a0101 });
  const frame = (vector: number, d: Uint8Array) => {
    const bufs = prepare(vm, [d], vector);
    for (const bi of bufs) vm.pool.opaque[bi * OPAQUE_WORDS + OPAQUE_ADJACENCY] = local;
    return prepareFrame(rt, bufs, { restoreMetadata: ['flags'] });
  };
  return [
    ...nodeCases('ip4-local', (vector) => frame(vector, checked), 'ip4-local (UDP, checksum verified)'),
    ...nodeCases('ip4-local', (vector) => frame(vector, unchecked), 'ip4-local (UDP, checksum 0)'),
  ];
});

await runIfMain(import.meta.url);
