// Shared by the tests of tcp4-input, tcp4-output and session-queue: hand-made TCP segments in
// IPv4 datagrams (checksums right unless asked otherwise), an engine with pg0 (10.10.1.1/24,
// table 0) and the session layer enabled, and a tap on what the session layer hands to
// tcp4-output and tcp4-reset (vm.enqueue of those nodes is recorded instead of run).

import { hostStackOf } from '../../src/host-stack.ts';
import type { HostStack } from '../../src/session/host-stack.ts';
import type { Engine } from '../../src/vlib/engine.ts';
import { emitTcpHeader, fillTcp4Checksum, newTcpOptions, type TcpOptions } from '../../src/wire/tcp.ts';
import { ip, ip4, ip4Engine } from './ip4-helpers.ts';

export interface SegmentFields {
  src?: string;
  dst?: string;
  srcPort?: number;
  dstPort?: number;
  seq?: number;
  ack?: number;
  flags?: number;
  window?: number;
  options?: Partial<TcpOptions>;
  payload?: Uint8Array;
  badChecksum?: boolean;
}

/** An IPv4 datagram carrying one TCP segment. */
export function tcpDatagram(f: SegmentFields = {}): Uint8Array {
  const options = { ...newTcpOptions(), ...f.options };
  const segment = new Uint8Array(60 + (f.payload?.length ?? 0));
  const headerLength = emitTcpHeader({
    srcPort: f.srcPort ?? 40000, dstPort: f.dstPort ?? 80, sequenceNumber: f.seq ?? 1000, acknowledgmentNumber: f.ack ?? 0,
    flags: f.flags ?? 0x02, window: f.window ?? 65535, checksum: 0, urgentPointer: 0, options,
  }, segment, 0);
  if (f.payload !== undefined) segment.set(f.payload, headerLength);
  const tcp = segment.subarray(0, headerLength + (f.payload?.length ?? 0));
  const src = f.src ?? '10.10.1.2';
  const dst = f.dst ?? '10.10.1.1';
  fillTcp4Checksum(tcp, 0, tcp.length, ip(src), ip(dst));
  if (f.badChecksum === true) tcp[16] ^= 0x55;
  return ip4({ src, dst, protocol: 6, payload: tcp });
}

export interface TcpSetup {
  vm: Engine;
  host: HostStack;
  /** Buffers handed to tcp4-output or tcp4-reset so far (each a segment as the sink left it). */
  toOutput: number[];
  /** Of those, the ones handed to tcp4-reset (resets for no connection). */
  toReset: number[];
}

export function tcpEngine(): TcpSetup {
  const { vm } = ip4Engine([], 4096);
  const host = hostStackOf(vm);
  vm.cli('session enable');
  const toOutput: number[] = [];
  const enqueue = vm.enqueue.bind(vm);
  const toReset: number[] = [];
  vm.enqueue = (name: string, buffers: ArrayLike<number>, count = buffers.length): void => {
    if (name !== 'tcp4-output' && name !== 'tcp4-reset') return enqueue(name, buffers, count);
    for (let i = 0; i < count; i++) {
      toOutput.push(buffers[i]);
      if (name === 'tcp4-reset') toReset.push(buffers[i]);
    }
  };
  return { vm, host, toOutput, toReset };
}
