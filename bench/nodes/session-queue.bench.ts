// session-queue's own cost per tx event: `vector` sessions each with a pending tx event and
// nothing new to send (their windows closed), so what is measured is the event ring, the
// wheel advance and the call into TCP per session — the overhead session-queue adds to every
// app write. (The data path through it is measured by bench/paths/tcp-bulk-veth.bench.ts.)

import { FRAME_SIZE } from '../../src/vlib/frame.ts';
import { runIfMain, vectorBench, type BenchCase } from '../harness.ts';
import { callProcess } from '../node-bench.ts';
import { tcpBenchEngine } from './tcp-bench-setup.ts';

vectorBench(() => {
  const { vm, host, session } = tcpBenchEngine();
  const rt = vm.node('session-queue')!;
  const process = rt.definition.process!;
  const buffers = new Uint32Array(FRAME_SIZE);
  const nexts = new Uint16Array(FRAME_SIZE);
  return [1, 32, 256].map((vector): BenchCase => ({
    name: 'session-queue (tx events, nothing to send)',
    vector,
    packets: vector,
    run: () => {
      // The same session queued `vector` times: clear its flag so each send queues anew.
      for (let i = 0; i < vector; i++) {
        session.queued = false;
        host.send(session);
      }
      return callProcess(process, rt, buffers, 0, nexts);
    },
  }));
});

await runIfMain(import.meta.url);
