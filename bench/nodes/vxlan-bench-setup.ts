// Shared by the VXLAN benches: an engine (createEngine) with an underlay pg0 in table 0,
// `tunnels` VXLAN tunnels (VNI 100 + t, remote VTEPs in 10.200.0.0/16) each in table 100 + t,
// and outer/inner frames built for them. Nothing here is measured.

import { createEngine, type Engine } from '../../src/index.ts';
import { ethernet, ipv4, udp, vxlan } from '../../test/interop/frames.ts';

export const REMOTE_MAC = '02:00:00:00:0a:02';

export function vxlanEngine(tunnels: number): Engine {
  const vm = createEngine({ buffers: 8192 });
  vm.cli('create packet-generator interface pg0');
  vm.cli('set interface state pg0 up');
  vm.cli('set interface ip address pg0 10.200.0.1/16');
  for (let t = 0; t < tunnels; t++) {
    const remote = remoteOf(t);
    vm.cli(`set ip neighbor pg0 ${remote} ${REMOTE_MAC} static`);
    vm.cli(`ip table add ${100 + t}`);
    vm.cli(`create vxlan tunnel src 10.200.0.1 dst ${remote} vni ${100 + t}`);
    vm.cli(`set interface ip table vxlan_tunnel${t} ${100 + t}`);
    vm.cli(`set interface state vxlan_tunnel${t} up`);
    vm.cli(`set interface ip address vxlan_tunnel${t} 10.201.0.1/24`);
  }
  return vm;
}

export function remoteOf(t: number): string {
  return `10.200.${10 + (t >> 7)}.${2 + (t & 0x7f)}`;
}

/** A 64-byte inner UDP frame to `tunnel`'s interface MAC (flow varied by `flow`). */
export function innerFrame(vm: Engine, t: number, flow: number): Uint8Array {
  const ifs = vm.vnet.interfaces;
  return ethernet(ifs.macText(ifs.find(`vxlan_tunnel${t}`)), '02:00:00:00:64:02', 0x0800,
    ipv4('10.201.0.2', `10.202.${flow >> 8 & 0xff}.${flow & 0xff}`, 17, udp(1024 + flow, 5678, new Uint8Array(18))));
}

/** The outer frame carrying `inner` from tunnel t's remote VTEP to us. */
export function outerFrame(vm: Engine, t: number, inner: Uint8Array): Uint8Array {
  const ifs = vm.vnet.interfaces;
  return ethernet(ifs.macText(ifs.find('pg0')), REMOTE_MAC, 0x0800,
    ipv4(remoteOf(t), '10.200.0.1', 17, udp(49152 + t, 4789, vxlan(100 + t, inner))));
}
