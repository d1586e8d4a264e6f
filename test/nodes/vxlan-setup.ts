// Shared by the vxlan4-input and vxlan4-encap tests: an engine with an underlay pg0
// (10.200.10.1/24, the remote VTEP 10.200.10.2 a static neighbor), optionally pg1 in table 5
// (10.200.50.1/24, remote 10.200.50.2), a tenant table 100 with vxlan_tunnel0 (VNI 100,
// 10.200.100.1/24, the remote inner host 10.200.100.2 a static neighbor), and helpers to
// inject frames on an interface and read what left an interface.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, type Engine } from '../../src/index.ts';
import { readPcapFile } from '../../src/vlib/pcap.ts';
import { ethernet, icmpEcho, ipv4, udp, vxlan } from '../interop/frames.ts';

export const REMOTE_VTEP_MAC = '02:00:00:00:0a:02';
export const INNER_HOST_MAC = '02:00:00:00:64:02';

export interface VxlanBed {
  vm: Engine;
  dir: string;
  close(): void;
  /** Injects frames as if received on `ifname` and runs the graph until idle. */
  inject(ifname: string, frames: Uint8Array[]): void;
  /** Starts capturing what leaves `ifname`. */
  capture(ifname: string): () => Uint8Array[];
  mac(ifname: string): string;
  /** An outer frame from the remote VTEP carrying `inner`. */
  outer(inner: Uint8Array, options?: { vni?: number; flags?: number; src?: string; dst?: string }): Uint8Array;
  /** An inner echo request from the remote inner host to `dst`. */
  innerEcho(dst: string, id?: number): Uint8Array;
}

export function vxlanBed(withVrf5 = false): VxlanBed {
  const vm = createEngine();
  const dir = mkdtempSync(join(tmpdir(), 'vecnet-vxlan-node-'));
  const lines = [
    'create packet-generator interface pg0',
    'set interface state pg0 up',
    'set interface ip address pg0 10.200.10.1/24',
    `set ip neighbor pg0 10.200.10.2 ${REMOTE_VTEP_MAC} static`,
    'ip table add 100',
    'create vxlan tunnel src 10.200.10.1 dst 10.200.10.2 vni 100',
    'set interface ip table vxlan_tunnel0 100',
    'set interface ip address vxlan_tunnel0 10.200.100.1/24',
    `set ip neighbor vxlan_tunnel0 10.200.100.2 ${INNER_HOST_MAC} static`,
  ];
  if (withVrf5) {
    lines.push(
      'ip table add 5',
      'create packet-generator interface pg1',
      'set interface ip table pg1 5',
      'set interface state pg1 up',
      'set interface ip address pg1 10.200.50.1/24',
      `set ip neighbor pg1 10.200.50.2 ${REMOTE_VTEP_MAC} static`,
    );
  }
  for (const line of lines) vm.cli(line);
  let captures = 0;
  const bed: VxlanBed = {
    vm,
    dir,
    close: () => rmSync(dir, { recursive: true, force: true }),
    mac: (ifname) => vm.vnet.interfaces.macText(vm.vnet.interfaces.find(ifname)),
    inject(ifname, frames) {
      const sw = vm.vnet.interfaces.find(ifname);
      const buffers = frames.map((f) => {
        const bi = vm.pool.fromBytes(f);
        vm.pool.rxInterface[bi] = sw;
        return bi;
      });
      vm.enqueue('ethernet-input', buffers);
      vm.runUntilIdle();
    },
    capture(ifname) {
      const file = join(dir, `capture-${captures++}.pcap`);
      vm.cli(`packet-generator capture ${ifname} pcap ${file}`);
      return () => {
        vm.cli(`packet-generator capture ${ifname} disable`);
        return readPcapFile(file).packets.map((p) => p.data);
      };
    },
    outer(inner, options = {}) {
      return ethernet(bed.mac('pg0'), REMOTE_VTEP_MAC, 0x0800,
        ipv4(options.src ?? '10.200.10.2', options.dst ?? '10.200.10.1', 17,
          udp(50000, 4789, vxlan(options.vni ?? 100, inner, options.flags ?? 0x08))));
    },
    innerEcho(dst, id = 1) {
      return ethernet(bed.mac('vxlan_tunnel0'), INNER_HOST_MAC, 0x0800, ipv4('10.200.100.2', dst, 1, icmpEcho(id, 1)));
    },
  };
  return bed;
}
