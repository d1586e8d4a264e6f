// Shared by the tests of the L2 nodes (pg-input, ethernet-input, arp-input, loopback-input,
// interface-output): frames built with the wire layer's emitters, a small graph with the
// real vnet around one node and recording sinks behind its nexts, and buffer accounting.

import { Engine } from '../../src/vlib/engine.ts';
import type { NodeDefinition } from '../../src/vlib/node.ts';
import { attachVnet } from '../../src/vnet/vnet.ts';
import { parseIp4, parseMac } from '../../src/wire/address.ts';
import { ArpOp, emitArpPacket } from '../../src/wire/arp.ts';
import { emitEthernetHeader, EtherType } from '../../src/wire/ethernet.ts';
import { buildPgPackets, parsePgData } from '../../src/vnet/devices/pg-edit.ts';
import { CliInput } from '../../src/vlib/cli-input.ts';
import { interfaceOutputTemplate } from '../../nodes/interface-output.ts';

export function mac(text: string): Uint8Array {
  const m = parseMac(text);
  if (m === null) throw new Error(`bad mac ${text}`);
  return m;
}

export function ip(text: string): number {
  const a = parseIp4(text);
  if (a === null) throw new Error(`bad ip ${text}`);
  return a;
}

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** An Ethernet frame: header + payload, zero-padded to `minLength` (60: the Ethernet minimum without FCS). */
export function frame(dst: string, src: string, type: number, payload: Uint8Array, minLength = 0): Uint8Array {
  const out = new Uint8Array(Math.max(14 + payload.length, minLength));
  emitEthernetHeader({ dst: mac(dst), src: mac(src), type }, out, 0);
  out.set(payload, 14);
  return out;
}

export interface ArpFields {
  op: 'request' | 'reply';
  /** Ethernet source and destination (default: sha, broadcast for requests / tha for replies). */
  ethSrc?: string;
  ethDst?: string;
  sha: string;
  spa: string;
  tha?: string;
  tpa: string;
  /** Pad the frame to this length (60 as a real NIC would). */
  minLength?: number;
}

export function arpFrame(f: ArpFields): Uint8Array {
  const body = new Uint8Array(28);
  const tha = f.tha ?? '00:00:00:00:00:00';
  emitArpPacket({ op: f.op === 'request' ? ArpOp.REQUEST : ArpOp.REPLY, sha: mac(f.sha), spa: ip(f.spa), tha: mac(tha), tpa: ip(f.tpa) }, body, 0);
  const dst = f.ethDst ?? (f.op === 'request' ? 'ff:ff:ff:ff:ff:ff' : tha);
  return frame(dst, f.ethSrc ?? f.sha, EtherType.ARP, body, f.minLength ?? 0);
}

/** Frames from pg's stream syntax (`IP4: a -> b  UDP: x -> y  UDP: 1 -> 2  incrementing 10`). */
export function pgFrames(data: string, minSize = 0, maxSize = 0): Uint8Array[] {
  return buildPgPackets(parsePgData(new CliInput(data)), minSize, maxSize);
}

export function udpFrame(dstMac: string, srcMac: string, src: string, dst: string, size = 64): Uint8Array {
  return pgFrames(`IP4: ${srcMac} -> ${dstMac} UDP: ${src} -> ${dst} UDP: 1234 -> 5678 incrementing 0`, size, size)[0];
}

export interface Received {
  bytes: Uint8Array;
  rx: number;
  tx: number;
  l2Offset: number;
  current: number;
}

/**
 * An engine with the vnet layer, `nodes` registered, and a recording sink for every other
 * name in `sinks` (they free what they get). Interfaces made with the pg or loopback API.
 */
export function smallGraph(nodes: readonly NodeDefinition[], sinks: readonly string[]): { vm: Engine; seen: Map<string, Received[]> } {
  const vm = new Engine({ buffers: 2048 });
  const vnet = attachVnet(vm);
  vnet.interfaceOutputTemplate = interfaceOutputTemplate;
  for (const n of nodes) vm.registerNode(n);
  const seen = new Map<string, Received[]>();
  for (const name of sinks) {
    seen.set(name, []);
    vm.registerNode({
      name,
      type: 'internal',
      process(ctx, buffers, n) {
        const list = seen.get(name)!;
        for (let i = 0; i < n; i++) {
          const bi = buffers[i];
          list.push({
            bytes: ctx.pool.toBytes(bi),
            rx: ctx.pool.rxInterface[bi],
            tx: ctx.pool.txInterface[bi],
            l2Offset: ctx.pool.l2Offset[bi],
            current: ctx.pool.current[bi],
          });
        }
        ctx.pool.free(buffers, 0, n);
        return 0;
      },
    });
  }
  return { vm, seen };
}

/** Puts `frames` into buffers received on `rx` and queues them for `node`. */
export function inject(vm: Engine, node: string, rx: number, frames: readonly Uint8Array[], advance = 0): number[] {
  const out: number[] = [];
  for (const f of frames) {
    const bi = vm.pool.fromBytes(f);
    if (bi === 0xffffffff) throw new Error('pool empty');
    vm.pool.rxInterface[bi] = rx;
    vm.pool.txInterface[bi] = 0xffffffff;
    vm.pool.l2Offset[bi] = vm.pool.current[bi];
    if (advance > 0) vm.pool.advance(bi, advance);
    out.push(bi);
  }
  vm.enqueue(node, out);
  return out;
}
