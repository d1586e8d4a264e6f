// session-queue (VPP's session-queue, vnet/session/session_node.c): the session layer's input
// node. Each call it brings the TCP timer wheel to the present (retransmissions, delayed
// ACKs, persist, keepalive and TIME-WAIT fire here), then drains up to TX_EVENT_BATCH app tx
// events — sessions whose app wrote to the tx FIFO — into TCP, which cuts segments from the
// FIFOs. The segments are staged by the session layer's sink and leave for tcp4-output when
// the call ends. It never keeps the engine spinning: it is in interrupt mode, interrupted
// by an app's tx event or by the one engine timer the session layer keeps at the TCP wheel's
// next expiry; with events left over after a batch it interrupts itself for the next turn.
// It reads and writes no buffer metadata itself (the sink sets what tcp4-output reads).

import { defineNode, indices } from '../src/vlib/node.ts';
import { existingHostStack } from '../src/session/host-stack.ts';

const NEXTS = { output: 'tcp4-output' } as const;

const ERRORS = {
  batches: 'tx event batches',
  leftOver: 'batches with events left over',
} as const;
const ERROR = indices(ERRORS);

export default defineNode({
  name: 'session-queue',
  type: 'input',
  state: 'interrupt',
  nexts: NEXTS,
  errors: ERRORS,
  process(ctx) {
    const host = existingHostStack(ctx.engine);
    if (host === undefined || host.tcp === null) return 0;
    host.beginNode();
    let more = false;
    try {
      if (host.txEventsPending > 0) {
        ctx.errors[ERROR.batches]++;
        more = host.drainTxEvents();
      }
    } finally {
      host.endNode();
    }
    if (more) {
      ctx.errors[ERROR.leftOver]++;
      ctx.engine.interrupt(ctx);
    }
    return 0;
  },
});
