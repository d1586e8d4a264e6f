// udp4-input (VPP's udp4-input, vnet/udp/udp_input.c): datagrams for the host stack's UDP
// ports, from ip4-udp-lookup (which checked length and checksum and advanced past the
// headers: current data is the payload, the IPv4 header at l3, the UDP header the 8 bytes
// before current). Per datagram, the session lookup in the fib of the rx interface (opaque
// word 1 when locally originated): a connected session by 5-tuple first, then the listener
// of the address (or the wildcard). The payload goes into the session's rx FIFO whole,
// behind a datagram header that keeps the sender (src/session/datagram.ts), and the
// session's app is told through the event ring. The buffer is freed here; datagrams with no
// session or no room in the FIFO go to error-drop, counted (UDP does not retransmit: the
// sender's app sees the loss). Reads: current, length, l3, flags, rx, opaque 1.

import { BufferFlag, OPAQUE_WORDS } from '../src/vlib/buffer-pool.ts';
import { defineNode, indices } from '../src/vlib/node.ts';
import { OPAQUE_FIB_INDEX } from '../src/vnet/ip4-opaque.ts';
import type {} from '../src/vnet/vnet.ts';
import { existingHostStack, UDP_INPUT_NODE } from '../src/session/host-stack.ts';
import { writeDatagram } from '../src/session/datagram.ts';
import { IpProtocol } from '../src/wire/ip4.ts';

const NEXTS = { drop: 'error-drop' } as const;
const NEXT = indices(NEXTS);

const ERRORS = {
  datagrams: 'datagrams received',
  noSession: 'no session for datagram',
  fifoFull: 'Packets dropped for lack of rx fifo space',
  malformed: 'datagram headers out of the buffer',
  chained: 'datagram larger than a buffer',
  disabled: 'session layer disabled',
} as const;
const ERROR = indices(ERRORS);

/** Buffers whose payload went into a FIFO (freed after the loop); a frame holds at most 256. */
const consumed = new Uint32Array(256);

export default defineNode({
  name: UDP_INPUT_NODE,
  type: 'internal',
  nexts: NEXTS,
  errors: ERRORS,
  traceBeforeProcess: true,
  trace: (ctx, bi) => {
    const pool = ctx.pool;
    const udp = pool.current[bi] - 8;
    if (udp < 0) return 'UDP: header out of the buffer';
    const bytes = pool.bytes;
    return `UDP: src-port ${(bytes[udp] << 8) | bytes[udp + 1]} dst-port ${(bytes[udp + 2] << 8) | bytes[udp + 3]} length ${pool.length[bi]}`;
  },
  process(ctx, buffers, n, nexts) {
    const pool = ctx.pool;
    const error = pool.error;
    const errorBase = ctx.errorBase;
    const host = existingHostStack(ctx.engine);
    if (host === undefined || !host.enabled) {
      for (let i = 0; i < n; i++) error[buffers[i]] = errorBase + ERROR.disabled;
      ctx.errors[ERROR.disabled] += n;
      ctx.toSingleNext(NEXT.drop);
      return n;
    }
    const bytes = pool.bytes;
    const current = pool.current;
    const length = pool.length;
    const flags = pool.flags;
    const l3Offset = pool.l3Offset;
    const opaque = pool.opaque;
    const rxInterface = pool.rxInterface;
    const fibIndex = ctx.engine.vnet.interfaces.fibIndex;
    const lookup = host.lookup;
    const sessions = host.sessions;
    const stride = pool.stride;
    let good = 0;
    let noSession = 0;
    let fifoFull = 0;
    let malformed = 0;
    let chained = 0;
    let dropped = 0;
    let taken = 0;
    for (let i = 0; i < n; i++) {
      const bi = buffers[i];
      if ((flags[bi] & BufferFlag.NEXT_PRESENT) !== 0 && !pool.linearize(bi)) {
        chained++;
        error[bi] = errorBase + ERROR.chained;
        buffers[dropped++] = bi;
        continue;
      }
      const cur = current[bi];
      const len = length[bi];
      const l3 = l3Offset[bi];
      const udp = cur - 8;
      // The headers ip4-udp-lookup left behind must lie in this buffer, before the payload.
      if (l3 < bi * stride || l3 + 20 > udp || cur + len > (bi + 1) * stride) {
        malformed++;
        error[bi] = errorBase + ERROR.malformed;
        buffers[dropped++] = bi;
        continue;
      }
      const src = ((bytes[l3 + 12] << 24) | (bytes[l3 + 13] << 16) | (bytes[l3 + 14] << 8) | bytes[l3 + 15]) >>> 0;
      const dst = ((bytes[l3 + 16] << 24) | (bytes[l3 + 17] << 16) | (bytes[l3 + 18] << 8) | bytes[l3 + 19]) >>> 0;
      const srcPort = (bytes[udp] << 8) | bytes[udp + 1];
      const dstPort = (bytes[udp + 2] << 8) | bytes[udp + 3];
      const fib = (flags[bi] & BufferFlag.LOCALLY_ORIGINATED) !== 0 ? opaque[bi * OPAQUE_WORDS + OPAQUE_FIB_INDEX] : fibIndex[rxInterface[bi]];
      let si = lookup.lookupSession(fib, IpProtocol.UDP, dst, dstPort, src, srcPort);
      if (si < 0) si = lookup.lookupListener(fib, IpProtocol.UDP, dst, dstPort);
      const s = si >= 0 ? sessions[si] : undefined;
      const fifo = s === undefined ? null : s.rxFifo;
      if (fifo === null) {
        noSession++;
        error[bi] = errorBase + ERROR.noSession;
        buffers[dropped++] = bi;
        continue;
      }
      if (!writeDatagram(fifo, bytes, cur, len, src, srcPort, dst, dstPort)) {
        fifoFull++;
        error[bi] = errorBase + ERROR.fifoFull;
        buffers[dropped++] = bi;
        continue;
      }
      host.notifyRx(s!);
      good++;
      consumed[taken++] = bi;
    }
    pool.free(consumed, 0, taken);
    ctx.errors[ERROR.datagrams] += good;
    ctx.errors[ERROR.noSession] += noSession;
    ctx.errors[ERROR.fifoFull] += fifoFull;
    ctx.errors[ERROR.malformed] += malformed;
    ctx.errors[ERROR.chained] += chained;
    for (let i = 0; i < dropped; i++) nexts[i] = NEXT.drop;
    return dropped;
  },
});
