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

/** The fast path reads headers as little-endian 16-bit words; a big-endian host takes the byte path. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** EtherType IP4 (0x0800) as a little-endian host reads its two bytes as one 16-bit word. */
const IP4_WORD = ((EtherType.IP4 & 0xff) << 8) | (EtherType.IP4 >>> 8);

// The pool's bytes as 16-bit words, remade only when another engine's pool comes by.
let wordsPool: BufferPool | null = null;
let poolWords: Uint16Array<ArrayBufferLike> = new Uint16Array(0);

function process(ctx: NodeContext, buffers: Uint32Array, n: number, nexts: Uint16Array): number {
  const pool = ctx.pool;
  if (pool !== wordsPool) {
    wordsPool = pool;
    poolWords = new Uint16Array(pool.memory, 0, pool.memory.byteLength >>> 1);
  }
  // Typed arrays and constants hoisted into locals: V8 reloads a typed array's data pointer
  // and an imported object's property at every use inside a loop otherwise.
  const words = poolWords;
  const bytes = pool.bytes;
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
  const HEADER = ETHERNET_HEADER_LENGTH;
  const IP4 = NEXT.ip4;
  const ARP = NEXT.arp;
  const DROP = NEXT.drop;
  const TYPE_IP4 = EtherType.IP4;
  const TYPE_ARP = EtherType.ARP;
  const ip4Word = IP4_WORD;
  const littleEndian = LITTLE_ENDIAN;
  let tooShort = 0;
  let down = 0;
  let mismatch = 0;
  let unknown = 0;
  // The receiving interface's state, read again only when it changes within the frame
  // (frames from one device are all one interface). Its MAC as three 16-bit values, both
  // big-endian (byte path) and as a little-endian host reads the words (word path), so the
  // destination check is three compares of small integers instead of six byte reads.
  let sw = -1;
  let up = false;
  let mac0 = 0;
  let mac1 = 0;
  let mac2 = 0;
  let macWord0 = 0;
  let macWord1 = 0;
  let macWord2 = 0;
  // nexts[] is written only once packets split: until then every packet took `single`
  // (-1 before the first packet) and the frame is handed over whole.
  let single = -1;
  let uniform = true;
  let i = 0;
  while (i < n) {
    // Four IPv4 frames per iteration when all four are the common case (the current rx
    // interface, up, ≥ 14 bytes at even offsets, for our MAC or a group address): V8
    // reloads each typed array's data pointer once per loop iteration, so a quad pays that
    // once for four packets, and the header is three 16-bit word loads for the destination
    // and one for the type; nexts[] stays unwritten (toSingleNext). Measured, 256 packets,
    // one core: one at a time with DataView reads and nexts[] 9.2–11.0 ns/packet in the node
    // bench (incl. its metadata reset), 7.5 in the ip4-forward path's runtime counters; this
    // quad 6.3–6.7 in the node bench, 4.3 in the path (whole path 30.7 → 27.8 ns/packet).
    if (i + 3 < n && up && littleEndian) {
      const b0 = buffers[i];
      const b1 = buffers[i + 1];
      const b2 = buffers[i + 2];
      const b3 = buffers[i + 3];
      const c0 = current[b0];
      const c1 = current[b1];
      const c2 = current[b2];
      const c3 = current[b3];
      const l0 = length[b0];
      const l1 = length[b1];
      const l2 = length[b2];
      const l3 = length[b3];
      if (rx[b0] === sw && rx[b1] === sw && rx[b2] === sw && rx[b3] === sw
        && l0 >= HEADER && l1 >= HEADER && l2 >= HEADER && l3 >= HEADER && ((c0 | c1 | c2 | c3) & 1) === 0) {
        const w0 = c0 >>> 1;
        const w1 = c1 >>> 1;
        const w2 = c2 >>> 1;
        const w3 = c3 >>> 1;
        const d0 = words[w0];
        const d1 = words[w1];
        const d2 = words[w2];
        const d3 = words[w3];
        // IEEE 802: the I/G bit (first byte, bit 0; the low byte of a little-endian word)
        // marks broadcast and multicast.
        if (words[w0 + 6] === ip4Word && words[w1 + 6] === ip4Word && words[w2 + 6] === ip4Word && words[w3 + 6] === ip4Word
          && ((d0 & 1) !== 0 || (d0 === macWord0 && words[w0 + 1] === macWord1 && words[w0 + 2] === macWord2))
          && ((d1 & 1) !== 0 || (d1 === macWord0 && words[w1 + 1] === macWord1 && words[w1 + 2] === macWord2))
          && ((d2 & 1) !== 0 || (d2 === macWord0 && words[w2 + 1] === macWord1 && words[w2 + 2] === macWord2))
          && ((d3 & 1) !== 0 || (d3 === macWord0 && words[w3 + 1] === macWord1 && words[w3 + 2] === macWord2))) {
          l2Offset[b0] = c0;
          l2Offset[b1] = c1;
          l2Offset[b2] = c2;
          l2Offset[b3] = c3;
          current[b0] = c0 + HEADER;
          current[b1] = c1 + HEADER;
          current[b2] = c2 + HEADER;
          current[b3] = c3 + HEADER;
          length[b0] = l0 - HEADER;
          length[b1] = l1 - HEADER;
          length[b2] = l2 - HEADER;
          length[b3] = l3 - HEADER;
          if (uniform && single !== IP4) {
            if (single < 0) single = IP4;
            else {
              uniform = false;
              for (let j = 0; j < i; j++) nexts[j] = single;
            }
          }
          if (!uniform) {
            nexts[i] = IP4;
            nexts[i + 1] = IP4;
            nexts[i + 2] = IP4;
            nexts[i + 3] = IP4;
          }
          i += 4;
          continue;
        }
      }
    }
    // One packet, any case.
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
      mac0 = (mac[m] << 8) | mac[m + 1];
      mac1 = (mac[m + 2] << 8) | mac[m + 3];
      mac2 = (mac[m + 4] << 8) | mac[m + 5];
      macWord0 = mac[m] | (mac[m + 1] << 8);
      macWord1 = mac[m + 2] | (mac[m + 3] << 8);
      macWord2 = mac[m + 4] | (mac[m + 5] << 8);
    }
    let next = DROP;
    if (len < HEADER) {
      error[bi] = errorBase + ERROR.tooShort;
      tooShort++;
    } else if (!up) {
      error[bi] = errorBase + ERROR.down;
      down++;
    } else if ((bytes[off] & 0x01) === 0
      && (((bytes[off] << 8) | bytes[off + 1]) !== mac0 || ((bytes[off + 2] << 8) | bytes[off + 3]) !== mac1
        || ((bytes[off + 4] << 8) | bytes[off + 5]) !== mac2)) {
      // IEEE 802: the I/G bit (first byte, bit 0) marks broadcast and multicast.
      error[bi] = errorBase + ERROR.macMismatch;
      mismatch++;
    } else {
      const type = (bytes[off + 12] << 8) | bytes[off + 13];
      if (type === TYPE_IP4) next = IP4;
      else if (type === TYPE_ARP) next = ARP;
      else next = typeNext[type];
      if (next === DROP) {
        error[bi] = errorBase + ERROR.unknownType;
        unknown++;
      } else {
        current[bi] = off + HEADER;
        length[bi] = len - HEADER;
      }
    }
    if (uniform && next !== single) {
      if (single < 0) single = next;
      else {
        uniform = false;
        for (let j = 0; j < i; j++) nexts[j] = single;
      }
    }
    if (!uniform) nexts[i] = next;
    i++;
  }
  // Every packet took one next: hand the frame over whole.
  if (uniform && single >= 0) ctx.toSingleNext(single);
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
