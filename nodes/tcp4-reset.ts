// tcp4-reset (VPP's tcp4-reset, vnet/tcp/tcp_output.c): the resets that answer segments for
// no connection — a closed port, an ACK to a listener without a valid SYN cookie (RFC 9293
// §3.10.7.1–2). The TCP core writes each reset into a pool buffer like any segment, and the
// session layer's sink stages it for this node rather than tcp4-output; the work is
// tcp4-output's (the IPv4 header pushed, the checksum offloaded, to ip4-lookup in the fib of
// opaque word 1), so this node runs tcp4-output's process under its own name and counter,
// and `show errors` counts resets sent apart from segments, as VPP's does.

import { defineNode } from '../src/vlib/node.ts';
import tcp4Output, { TCP_OUTPUT_ERRORS } from './tcp4-output.ts';

const ERRORS = {
  segments: 'Resets sent',
  malformed: TCP_OUTPUT_ERRORS.malformed,
} as const satisfies Record<keyof typeof TCP_OUTPUT_ERRORS, string>;

export default defineNode({
  name: 'tcp4-reset',
  type: 'internal',
  nexts: tcp4Output.nexts,
  errors: ERRORS,
  trace: tcp4Output.trace,
  process: tcp4Output.process,
});
