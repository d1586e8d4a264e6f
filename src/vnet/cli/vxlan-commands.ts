// CLI of VXLAN tunnels (VPP's vnet/vxlan/vxlan.c commands): `create vxlan tunnel` (with
// `del` to delete), `show vxlan tunnel` and `set interface ip vxlan-bypass`, with VPP's error texts.

import { CliError, type CliRegistry } from '../../vlib/cli.ts';
import type { Engine } from '../../vlib/engine.ts';
import { formatIp4 } from '../../wire/address.ts';
import { readInterface } from './interface-commands.ts';

type Registry = CliRegistry<Engine>;

export function registerVxlanCommands(cli: Registry): void {
  cli.register({
    path: 'create vxlan tunnel',
    short: 'Create or delete a VXLAN tunnel',
    usage: 'create vxlan tunnel src <local-ip> dst <remote-ip> vni <nn> [encap-vrf-id <nn>] [instance <n>] [del]',
    action(vm, input, out) {
      let src: number | undefined;
      let dst: number | undefined;
      let vni: number | undefined;
      let encapVrfId: number | undefined;
      let instance: number | undefined;
      let del = false;
      while (!input.atEnd()) {
        if (input.keyword('src')) src = input.expectIp4('src');
        else if (input.keyword('dst')) dst = input.expectIp4('dst');
        else if (input.keyword('vni')) vni = input.expectNumber('vni', { min: 0, max: 0xffffff });
        else if (input.keyword('encap-vrf-id')) encapVrfId = input.expectNumber('encap-vrf-id', { min: 0, max: 0xffffffff });
        else if (input.keyword('instance')) instance = input.expectNumber('instance', { min: 0, max: 0xfffffffe });
        else if (input.keyword('del')) del = true;
        else input.fail();
      }
      if (src === undefined) throw new CliError('tunnel src address not specified');
      if (dst === undefined) throw new CliError('tunnel dst address not specified');
      if (vni === undefined) throw new CliError('vni not specified');
      const options = { src, dst, vni, encapVrfId, instance };
      if (del) {
        vm.vnet.vxlan.delete(options);
        return;
      }
      const sw = vm.vnet.vxlan.create(options);
      out.print(vm.vnet.interfaces.names[sw]);
    },
  });
  cli.register({
    path: 'set interface ip vxlan-bypass',
    short: 'Send VXLAN packets for a local VTEP straight to vxlan4-input',
    usage: 'set interface ip vxlan-bypass <interface> [del]',
    action(vm, input) {
      const sw = readInterface(vm, input);
      const del = input.keyword('del');
      input.expectEnd();
      setVxlanBypass(vm, sw, !del);
    },
  });
  cli.register({
    path: 'show vxlan tunnel',
    short: 'Show VXLAN tunnels',
    usage: 'show vxlan tunnel [raw]',
    json: true,
    action(vm, input, out) {
      input.keyword('raw');
      input.expectEnd();
      const tunnels = vm.vnet.vxlan;
      const list = tunnels.indices();
      if (list.length === 0) out.print('No vxlan tunnels configured...');
      for (const t of list) out.print(tunnels.format(t));
      out.json(
        list.map((t) => ({
          index: t,
          instance: tunnels.instance[t],
          src: formatIp4(tunnels.src[t]),
          dst: formatIp4(tunnels.dst[t]),
          vni: tunnels.vni[t],
          fibIndex: tunnels.encapFibIndex[t],
          swIfIndex: tunnels.swIfIndex[t],
          interface: vm.vnet.interfaces.names[tunnels.swIfIndex[t]],
        })),
      );
    },
  });
}

/** `set interface ip vxlan-bypass`: switches ip4-vxlan-bypass on the ip4-unicast arc of one interface. */
export function setVxlanBypass(vm: Engine, swIfIndex: number, on: boolean): void {
  vm.features.enable('ip4-unicast', 'ip4-vxlan-bypass', swIfIndex, on);
}
