// The sample node at vector sizes 1, 32 and 256 on 64-byte IPv4/UDP frames from 16 hosts:
// ns/packet of the MAC swap and the tx-interface write (the bench template's reset of the
// buffers' metadata is included and shown in the notes). Swapping twice restores a frame,
// so the bytes need no reset. Run alone: node --import tsx plugins/sample/bench/sample.bench.ts
// #region docs:bench
import { ip4Frame } from '../../../src/index.ts';
import { nodeBench } from '../../../bench/node-bench.ts';
import { runIfMain } from '../../../bench/harness.ts';
import sampleNode from '../sample-node.ts';

nodeBench(sampleNode, {
  featureArc: 'device-input',
  packets: () => Array.from({ length: 16 }, (_, i) => ip4Frame({ srcMac: `02:00:00:00:01:${(i + 16).toString(16)}` })),
});

await runIfMain(import.meta.url);
// #endregion docs:bench
