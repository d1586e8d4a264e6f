// ip4-icmp-input on echo requests to 10.10.1.1 (64-byte frames): each becomes its echo reply
// in place. Between runs the IPv4 and ICMP headers (28 bytes) are put back; that reset is
// measured alone and taken off in the note.
import { internetChecksum } from '../../src/wire/checksum.ts';
import { runIfMain, vectorBench } from '../harness.ts';
import { anchorEngine, caller, datagram, nodeCases, prepare, quickNs, VECTORS } from './ip4-bench.ts';

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
  const headers = d.subarray(0, 28);
  const make = (vector: number, process: boolean) => {
    const bufs = prepare(vm, [d], vector);
    const at = Uint32Array.from(bufs, (bi) => vm.pool.current[bi]);
    const call = caller(rt, bufs);
    const bytes = vm.pool.bytes;
    return () => {
      for (let i = 0; i < vector; i++) bytes.set(headers, at[i]);
      return process ? call() : 0;
    };
  };
  const resetNs = new Map<number, number>(VECTORS.map((v) => [v, quickNs(make(v, false), v)]));
  return nodeCases('ip4-icmp-input', (vector) => make(vector, true), { overhead: (v) => resetNs.get(v) ?? 0 });
});

await runIfMain(import.meta.url);
