// arp-input alone: ARP requests from a neighbor on pg0's subnet for pg0's address, as
// ethernet-input hands them on (current at the ARP header). Each is answered in place and
// its sender learned (a known neighbor: the table is only refreshed). Each call first
// restores the request bytes and metadata (the node rewrites both), a cost included in the
// figure and measured alone on the second row. ARP is the control path: this is about
// not being slow, not about line rate.

import { runIfMain, vectorBench, type BenchCase } from '../harness.ts';
import { prepareFrame, preparePackets, VECTOR_SIZES } from '../node-bench.ts';
import { l2Engine } from './l2-bench-setup.ts';
import { arpFrame } from '../../test/nodes/l2-helpers.ts';

vectorBench(() => {
  const vm = l2Engine();
  const rt = vm.node('arp-input')!;
  const pg0 = vm.vnet.interfaces.find('pg0');
  const request = arpFrame({ op: 'request', sha: '02:00:00:00:00:10', spa: '10.10.1.2', tpa: '10.10.1.1', minLength: 60 });
  return VECTOR_SIZES.flatMap((vector): BenchCase[] => {
    // One-packet frames run 32 calls per sample: mitata times a call this short one by one,
    // and its timer then dominates.
    const repeat = vector === 1 ? 32 : 1;
    const prepared = preparePackets(vm, [request], vector, { rxInterface: pg0, advance: 14 });
    const frame = prepareFrame(rt, prepared, { restoreMetadata: ['current'], restoreBytes: request.length });
    return [
      {
        name: 'arp-input, requests for our address',
        vector,
        packets: vector * repeat,
        run: () => {
          let m = 0;
          for (let r = 0; r < repeat; r++) m += frame.run();
          return m;
        },
        note: 'reply in place + learn; incl. restoring the request',
      },
      {
        name: 'arp-input bench baseline: restoring the request',
        vector,
        packets: vector * repeat,
        run: () => {
          for (let r = 0; r < repeat; r++) frame.reset();
          return vector * repeat;
        },
        note: 'subtract from the row above',
      },
    ];
  });
});

await runIfMain(import.meta.url);
