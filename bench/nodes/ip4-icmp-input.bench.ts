// ip4-icmp-input on echo requests to 10.10.1.1 (64-byte frames): each becomes its echo reply
// in place. Between runs the L2, IPv4 and ICMP headers (42 bytes) are put back; that reset is
// measured alone and taken off in the note.
import { internetChecksum } from '../../src/wire/checksum.ts';
import { runIfMain, vectorBench } from '../harness.ts';
import { prepareFrame } from '../node-bench.ts';
import { anchorEngine, datagram, nodeCases, prepare } from './ip4-bench.ts';

vectorBench(() => {
  const vm = anchorEngine();
  const rt = vm.node('ip4-icmp-input')!;
  const icmp = new Uint8Array(30);
  icmp.set([8, 0, 0, 0, 0, 7, 0, 1]);
  for (let i = 8; i < 30; i++) icmp[i] = 0x61 + i;
  const c = internetChecksum(icmp, 0, icmp.length);
  icmp[2] = c >>> 8;
  icmp[3] = c;
  const d = datagram({ dst: 0x0a0a0101, protocol: 1, payload: icmp });
  return nodeCases('ip4-icmp-input', (vector) => prepareFrame(rt, prepare(vm, [d], vector), { restoreMetadata: [], restoreBytes: 14 + 28 }));
});

await runIfMain(import.meta.url);
