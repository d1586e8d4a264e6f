// session-queue (VPP's session-queue, vnet/session/session_node.c): the session layer's input
// node. Each call it brings the TCP timer wheel to the present (retransmissions, delayed
// ACKs, persist, keepalive and TIME-WAIT fire here), then runs the events of up to
// EVENT_BATCH sessions from the session layer's event ring: app tx events go into the
// transport (TCP cuts segments from the FIFO; UDP takes whole datagrams), and the app
// notifications of transports without segment processing (cut-through, UDP: accepted,
// connected, rx, tx space, disconnected, reset, cleanup) are delivered. Segments and
// datagrams are staged by the session layer and leave for tcp4-output / udp4-output when
// the call ends. It never keeps the engine spinning: it is in interrupt mode, interrupted
// by a queued event or by the one engine timer the session layer keeps at the TCP wheel's
// next expiry; with events left over after a batch it interrupts itself for the next turn.
// It reads and writes no buffer metadata itself.

import { defineNode, indices } from '../src/vlib/node.ts';
import { existingHostStack } from '../src/session/host-stack.ts';

const NEXTS = { output: 'tcp4-output', udpOutput: 'udp4-output' } as const;

const ERRORS = {
  batches: 'event batches',
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
      if (host.eventsPending > 0) {
        ctx.errors[ERROR.batches]++;
        more = host.drainEvents();
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
