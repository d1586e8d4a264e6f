// tcp4-input (VPP's tcp4-input, vnet/tcp/tcp_input.c): TCP segments for one of our
// addresses, from ip4-local, current data at the IPv4 header. Per segment: the checksum
// unless BufferFlag.L4_CHECKSUM_CORRECT says ip4-local (or a device) checked it, then the
// session lookup of the engine's session layer — established 5-tuple first, then the
// listener (exact address, then wildcard) — in the fib of the rx interface, or of opaque
// word 1 for a locally originated packet; then the TCP core's `input` with the connection
// found (or none: the core answers with a reset, RFC 9293 §3.10.7.1). The core copies what it
// keeps into the session FIFOs, so a segment it took is freed here; malformed ones and bad
// checksums go to error-drop, counted (the only next). Segments the core sends meanwhile are
// staged and go to tcp4-output when the frame is done. Reads: current, length, flags, rx,
// opaque 1. Writes: error on drops.

import { BufferFlag, OPAQUE_WORDS } from '../src/vlib/buffer-pool.ts';
import { defineNode, indices } from '../src/vlib/node.ts';
import { OPAQUE_FIB_INDEX } from '../src/vnet/ip4-opaque.ts';
import type {} from '../src/vnet/vnet.ts';
import { existingHostStack } from '../src/session/host-stack.ts';
import { checksumSum, ip4PseudoHeaderSum } from '../src/wire/checksum.ts';
import { IpProtocol } from '../src/wire/ip4.ts';
import { formatTcpHeader } from '../src/wire/tcp.ts';

const NEXTS = { drop: 'error-drop' } as const;
const NEXT = indices(NEXTS);

const ERRORS = {
  segments: 'segments received',
  noConnection: 'no listener for dst port',
  checksum: 'bad tcp checksum',
  malformed: 'malformed tcp segment',
  chained: 'segment larger than a buffer',
  disabled: 'session layer disabled',
} as const;
const ERROR = indices(ERRORS);

/** Buffers the core has taken (freed after the loop); a frame holds at most 256. */
const consumed = new Uint32Array(256);

export default defineNode({
  name: 'tcp4-input',
  type: 'internal',
  nexts: NEXTS,
  errors: ERRORS,
  traceBeforeProcess: true,
  trace: (ctx, bi) => {
    const pool = ctx.pool;
    const cur = pool.current[bi];
    const ihl = (pool.bytes[cur] & 0xf) << 2;
    return `TCP: ${formatTcpHeader(pool.bytes, cur + ihl, Math.max(0, pool.length[bi] - ihl))}`;
  },
  process(ctx, buffers, n, nexts) {
    const pool = ctx.pool;
    const error = pool.error;
    const errorBase = ctx.errorBase;
    const host = existingHostStack(ctx.engine);
    const tcp = host?.tcp ?? null;
    if (host === undefined || tcp === null) {
      for (let i = 0; i < n; i++) error[buffers[i]] = errorBase + ERROR.disabled;
      ctx.errors[ERROR.disabled] += n;
      ctx.toSingleNext(NEXT.drop);
      return n;
    }
    const bytes = pool.bytes;
    const current = pool.current;
    const length = pool.length;
    const flags = pool.flags;
    const opaque = pool.opaque;
    const rxInterface = pool.rxInterface;
    const fibIndex = ctx.engine.vnet.interfaces.fibIndex;
    const lookup = host.lookup;
    const sessions = host.sessions;
    const sink = host.sink;
    let good = 0;
    let noConnection = 0;
    let badChecksum = 0;
    let malformed = 0;
    let chained = 0;
    let dropped = 0;
    let taken = 0;
    host.beginNode();
    try {
      for (let i = 0; i < n; i++) {
        const bi = buffers[i];
        let f = flags[bi];
        if ((f & BufferFlag.NEXT_PRESENT) !== 0) {
          if (!pool.linearize(bi)) {
            chained++;
            error[bi] = errorBase + ERROR.chained;
            buffers[dropped++] = bi;
            continue;
          }
          f = flags[bi];
        }
        const cur = current[bi];
        const len = length[bi];
        if (len < 40 || cur + len > bytes.length) {
          malformed++;
          error[bi] = errorBase + ERROR.malformed;
          buffers[dropped++] = bi;
          continue;
        }
        const ihl = (bytes[cur] & 0xf) << 2;
        const total = (bytes[cur + 2] << 8) | bytes[cur + 3];
        if (ihl < 20 || total > len || total < ihl + 20 || bytes[cur + 9] !== IpProtocol.TCP) {
          malformed++;
          error[bi] = errorBase + ERROR.malformed;
          buffers[dropped++] = bi;
          continue;
        }
        const src = ((bytes[cur + 12] << 24) | (bytes[cur + 13] << 16) | (bytes[cur + 14] << 8) | bytes[cur + 15]) >>> 0;
        const dst = ((bytes[cur + 16] << 24) | (bytes[cur + 17] << 16) | (bytes[cur + 18] << 8) | bytes[cur + 19]) >>> 0;
        const l4 = cur + ihl;
        const l4Length = total - ihl;
        if ((f & BufferFlag.L4_CHECKSUM_CORRECT) === 0
          && checksumSum(bytes, l4, l4Length, ip4PseudoHeaderSum(src, dst, IpProtocol.TCP, l4Length)) !== 0xffff) {
          badChecksum++;
          error[bi] = errorBase + ERROR.checksum;
          buffers[dropped++] = bi;
          continue;
        }
        const fib = (f & BufferFlag.LOCALLY_ORIGINATED) !== 0 ? opaque[bi * OPAQUE_WORDS + OPAQUE_FIB_INDEX] : fibIndex[rxInterface[bi]];
        const srcPort = (bytes[l4] << 8) | bytes[l4 + 1];
        const dstPort = (bytes[l4 + 2] << 8) | bytes[l4 + 3];
        let si = lookup.lookupSession(fib, IpProtocol.TCP, dst, dstPort, src, srcPort);
        if (si < 0) si = lookup.lookupListener(fib, IpProtocol.TCP, dst, dstPort);
        const connection = si >= 0 ? sessions[si].connection : null;
        if (connection === null) noConnection++;
        else good++;
        sink.fibForReset = fib;
        tcp.input(connection, bytes, l4, l4Length, src, dst);
        consumed[taken++] = bi;
      }
    } finally {
      host.endNode();
    }
    pool.free(consumed, 0, taken);
    ctx.errors[ERROR.segments] += good;
    ctx.errors[ERROR.noConnection] += noConnection;
    ctx.errors[ERROR.checksum] += badChecksum;
    ctx.errors[ERROR.malformed] += malformed;
    ctx.errors[ERROR.chained] += chained;
    for (let i = 0; i < dropped; i++) nexts[i] = NEXT.drop;
    return dropped;
  },
});
