// ethernet-input: the first node of every Ethernet interface's receive path (VPP's
// ethernet-input). Per frame it checks, in order: at least 14 bytes, the receiving
// interface is admin up, the destination MAC is the interface's own or a group address
// (broadcast/multicast; L3 interfaces drop the rest as "l3 mac mismatch"), and dispatches
// by EtherType: IP4 → ip4-input, ARP → arp-input, a type a plugin registered
// (vnet.registerEthernetType) → its node, anything else dropped as "unknown ethernet type".
// Reads current, length, rxInterface; writes l2Offset (the frame's start) and, for frames
// it passes on, advances current past the 14-byte header. Drops set the buffer's error and
// are counted once per frame; a frame it drops is left as it came (for pcap drop capture).

import type { BufferPool } from '../src/vlib/buffer-pool.ts';
import { defineNode, indices } from '../src/vlib/node.ts';
import type { NodeContext } from '../src/vlib/node-runtime.ts';
import { ETHERNET_HEADER_LENGTH, EtherType, formatEthernet } from '../src/wire/ethernet.ts';
import type {} from '../src/vnet/vnet.ts';

const NEXTS = { drop: 'error-drop', ip4: 'ip4-input', arp: 'arp-input' } as const;
const NEXT = indices(NEXTS);
const ERRORS = {
  tooShort: 'ethernet frame too short',
  down: 'interface down',
  macMismatch: 'l3 mac mismatch',
  unknownType: 'unknown ethernet type',
} as const;
const ERROR = indices(ERRORS);

// One DataView over the pool's memory, remade only when another engine's pool comes by.
let viewPool: BufferPool | null = null;
let view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

function process(ctx: NodeContext, buffers: Uint32Array, n: number, nexts: Uint16Array): number {
  const pool = ctx.pool;
  if (pool !== viewPool) {
    viewPool = pool;
    view = new DataView(pool.memory);
  }
  const dv = view;
  const current = pool.current;
  const length = pool.length;
  const rx = pool.rxInterface;
  const l2Offset = pool.l2Offset;
  const error = pool.error;
  const vnet = ctx.engine.vnet;
  const ifs = vnet.interfaces;
  const mac = ifs.mac;
  const adminUp = ifs.adminUp;
  const typeNext = vnet.ethernetTypeNext;
  const errorBase = ctx.errorBase;
  let tooShort = 0;
  let down = 0;
  let mismatch = 0;
  let unknown = 0;
  // The receiving interface's state, read again only when it changes within the frame
  // (frames from one device are all one interface). Its MAC as a u32 and a u16 makes the
  // destination check two reads and two compares instead of twelve byte reads.
  let sw = -1;
  let up = false;
  let macHigh = 0;
  let macLow = 0;
  for (let i = 0; i < n; i++) {
    const bi = buffers[i];
    const off = current[bi];
    const len = length[bi];
    l2Offset[bi] = off;
    const rxSw = rx[bi];
    if (rxSw !== sw) {
      sw = rxSw;
      // An index past the interface table reads undefined: not up.
      up = adminUp[sw] === 1;
      const m = sw * 6;
      macHigh = ((mac[m] << 24) | (mac[m + 1] << 16) | (mac[m + 2] << 8) | mac[m + 3]) >>> 0;
      macLow = (mac[m + 4] << 8) | mac[m + 5];
    }
    if (len < ETHERNET_HEADER_LENGTH) {
      nexts[i] = NEXT.drop;
      error[bi] = errorBase + ERROR.tooShort;
      tooShort++;
      continue;
    }
    if (!up) {
      nexts[i] = NEXT.drop;
      error[bi] = errorBase + ERROR.down;
      down++;
      continue;
    }
    const dstHigh = dv.getUint32(off);
    // IEEE 802: the I/G bit (first byte, bit 0) marks broadcast and multicast.
    if ((dstHigh & 0x01000000) === 0 && (dstHigh !== macHigh || dv.getUint16(off + 4) !== macLow)) {
      nexts[i] = NEXT.drop;
      error[bi] = errorBase + ERROR.macMismatch;
      mismatch++;
      continue;
    }
    const type = dv.getUint16(off + 12);
    let next: number;
    if (type === EtherType.IP4) next = NEXT.ip4;
    else if (type === EtherType.ARP) next = NEXT.arp;
    else {
      next = typeNext[type];
      if (next === 0) {
        nexts[i] = NEXT.drop;
        error[bi] = errorBase + ERROR.unknownType;
        unknown++;
        continue;
      }
    }
    nexts[i] = next;
    current[bi] = off + ETHERNET_HEADER_LENGTH;
    length[bi] = len - ETHERNET_HEADER_LENGTH;
  }
  const errors = ctx.errors;
  if (tooShort !== 0) errors[ERROR.tooShort] += tooShort;
  if (down !== 0) errors[ERROR.down] += down;
  if (mismatch !== 0) errors[ERROR.macMismatch] += mismatch;
  if (unknown !== 0) errors[ERROR.unknownType] += unknown;
  return n;
}

function trace(ctx: NodeContext, bi: number): string {
  const pool = ctx.pool;
  const sw = pool.rxInterface[bi];
  const start = pool.l2Offset[bi];
  const available = pool.current[bi] + pool.length[bi] - start;
  return `frame: hw-if-index ${sw}, sw-if-index ${sw}\n${formatEthernet(pool.bytes, start, available)}`;
}

export default defineNode({
  name: 'ethernet-input',
  type: 'internal',
  nexts: NEXTS,
  errors: ERRORS,
  trace,
  process,
});
