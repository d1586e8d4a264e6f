// Interface CLI (VPP's vnet/interface_cli.c and ethernet's loopback commands): create and
// delete loopbacks, admin state, addresses, MAC, MTU, IP table, and the `show interface`,
// `show hardware-interfaces` and `clear interfaces` views in VPP's layout. Every command
// reads all of its input first (a bad token is one error line and nothing changes), then
// calls the Vnet action the API uses.

import { CliError, type CliInput, type CliOutput, type CliRegistry } from '../../vlib/cli.ts';
import type { Engine } from '../../vlib/engine.ts';
import { center } from '../../vlib/format.ts';
import { formatIp4 } from '../../wire/address.ts';
import { INTERFACE_COUNTER_NAMES, InterfaceCounter, Interfaces } from '../interface.ts';
import type {} from '../vnet.ts';

type Registry = CliRegistry<Engine>;

/** Reads an interface name and returns its sw_if_index; an unknown name is the error. */
export function readInterface(vm: Engine, input: CliInput, what = 'interface'): number {
  const name = input.expectWord(what);
  const sw = vm.vnet.interfaces.find(name);
  if (sw < 0 || vm.vnet.interfaces.exists[sw] !== 1) throw new CliError(`unknown interface '${name}'`, 'ENODEV');
  return sw;
}

/** `show interface`'s counters, in VPP's order (combined counters, then simple ones). */
const SHOWN_COUNTERS = [
  InterfaceCounter.RX_PACKETS, InterfaceCounter.RX_BYTES, InterfaceCounter.TX_PACKETS, InterfaceCounter.TX_BYTES,
  InterfaceCounter.DROPS, InterfaceCounter.PUNT, InterfaceCounter.IP4, InterfaceCounter.TX_ERROR,
] as const;

export function registerInterfaceCommands(cli: Registry): void {
  cli.register({
    path: 'create loopback interface',
    short: 'Create a loopback interface',
    usage: 'create loopback interface [mac <mac-addr>] [instance <instance>]',
    action(vm, input, out) {
      let mac: Uint8Array | undefined;
      let instance: number | undefined;
      while (!input.atEnd()) {
        if (input.keyword('mac')) mac = input.expectMac('mac');
        else if (input.keyword('instance')) instance = input.expectNumber('instance', { max: 0xfffffffe });
        else input.fail();
      }
      const sw = vm.vnet.loopbacks.create(mac, instance);
      out.print(vm.vnet.interfaces.names[sw]);
    },
  });
  cli.register({
    path: 'delete loopback interface',
    short: 'Delete a loopback interface',
    usage: 'delete loopback interface intfc <interface>',
    action(vm, input) {
      input.expectKeyword('intfc');
      const sw = readInterface(vm, input);
      input.expectEnd();
      if (!vm.vnet.loopbacks.isLoopback(sw)) throw new CliError(`${vm.vnet.interfaces.names[sw]} is not a loopback interface`, 'ENOTSUP');
      vm.vnet.loopbacks.delete(sw);
    },
  });
  cli.register({
    path: 'set interface state',
    short: 'Set an interface up or down',
    usage: 'set interface state <interface> [up|down]',
    action(vm, input) {
      const sw = readInterface(vm, input);
      const state = input.expectOneOf(['up', 'down'], 'interface state');
      input.expectEnd();
      vm.vnet.setAdminState(sw, state === 'up');
    },
  });
  cli.register({
    path: 'set interface ip address',
    short: 'Add or delete an IPv4 address of an interface',
    usage: 'set interface ip address [del] <interface> <ip-addr>/<mask> | [del] <interface> all',
    action(vm, input) {
      const del = input.keyword('del');
      const sw = readInterface(vm, input);
      if (del && input.keyword('all')) {
        input.expectEnd();
        const vnet = vm.vnet;
        for (const a of [...vnet.interfaces.ip4Addresses[sw]]) vnet.deleteIp4Address(sw, a.address, a.length);
        return;
      }
      const prefix = input.expectIp4Prefix('interface address', true);
      input.expectEnd();
      if (del) vm.vnet.deleteIp4Address(sw, prefix.address, prefix.length);
      else vm.vnet.addIp4Address(sw, prefix.address, prefix.length);
    },
  });
  cli.register({
    path: 'set interface mac address',
    short: 'Set the MAC address of an interface',
    usage: 'set interface mac address <interface> <mac-address>',
    action(vm, input) {
      const sw = readInterface(vm, input);
      const mac = input.expectMac('mac address');
      input.expectEnd();
      if (sw === 0) throw new CliError('local0 has no MAC address', 'ENOTSUP');
      vm.vnet.setMac(sw, mac);
    },
  });
  cli.register({
    path: 'set interface mtu',
    short: 'Set the MTU of an interface',
    usage: 'set interface mtu [packet|ip4] <value> <interface>',
    action(vm, input) {
      const kind = input.oneOf(['packet', 'ip4']) ?? 'packet';
      const mtu = input.expectNumber('mtu', { min: 64, max: 65535 });
      const sw = readInterface(vm, input);
      input.expectEnd();
      if (sw === 0) throw new CliError('local0 has no MTU to set', 'ENOTSUP');
      vm.vnet.setMtu(sw, mtu, kind);
    },
  });
  cli.register({
    path: 'set interface ip table',
    short: 'Bind an interface to an IPv4 table',
    usage: 'set interface ip table <interface> <table-id>',
    action(vm, input) {
      const sw = readInterface(vm, input);
      const table = input.expectNumber('table id', { max: 0xfffffffe });
      input.expectEnd();
      vm.vnet.setIp4Table(sw, table);
    },
  });
  cli.register({
    path: 'show interface',
    short: 'Show interfaces and their counters',
    usage: 'show interface [address|addr] [<interface> ...]',
    json: true,
    action(vm, input, out) {
      const addresses = input.oneOf(['address', 'addr']) !== null;
      const only: number[] = [];
      while (!input.atEnd()) only.push(readInterface(vm, input));
      const list = only.length > 0 ? only : vm.vnet.interfaces.sortedIndices();
      if (addresses) showAddresses(vm, list, out);
      else showInterfaces(vm, list, out);
    },
  });
  cli.register({
    path: 'show hardware-interfaces',
    short: 'Show hardware interfaces',
    usage: 'show hardware-interfaces [brief] [<interface> ...]',
    json: true,
    action(vm, input, out) {
      let brief = false;
      const only: number[] = [];
      while (!input.atEnd()) {
        if (input.keyword('brief')) brief = true;
        else only.push(readInterface(vm, input));
      }
      showHardware(vm, only.length > 0 ? only : vm.vnet.interfaces.sortedIndices(), brief, out);
    },
  });
  cli.register({
    path: 'clear interfaces',
    short: 'Clear interface counters',
    action(vm, input) {
      input.expectEnd();
      vm.vnet.interfaces.counters.fill(0);
    },
  });
}

function mtuText(ifs: Interfaces, sw: number): string {
  return sw === 0 ? '0/0/0/0' : `${ifs.l3Mtu[sw]}/${ifs.ip4Mtu[sw]}/0/0`;
}

function showInterfaces(vm: Engine, list: readonly number[], out: CliOutput): void {
  const ifs = vm.vnet.interfaces;
  const per = Interfaces.countersPerInterface;
  const rows = list.map((sw) => {
    const counters: Record<string, number> = {};
    for (const c of SHOWN_COUNTERS) {
      const v = ifs.counters[sw * per + c];
      if (v !== 0) counters[INTERFACE_COUNTER_NAMES[c]] = v;
    }
    return { name: ifs.names[sw], index: sw, state: ifs.adminUp[sw] === 1 ? 'up' : 'down', mtu: mtuText(ifs, sw), counters };
  });
  out.json(rows);
  out.print(
    `${center('Name', 32)}${center('Idx', 5)}${center('State', 10)}${center('MTU (L3/IP4/IP6/MPLS)', 21)}` +
      `${center('Counter', 16)}${center('Count', 16)}`,
  );
  for (const r of rows) {
    const head = `${r.name.padEnd(32)}${center(String(r.index), 5)}${center(r.state, 10)}${center(r.mtu, 21)}`;
    const counters = Object.entries(r.counters).map(([name, value]) => `${name.padEnd(16)}${String(value).padStart(16)}`);
    if (counters.length === 0) {
      out.print(head);
      continue;
    }
    out.print(head + counters[0]);
    const indent = ' '.repeat(head.length);
    for (let k = 1; k < counters.length; k++) out.print(indent + counters[k]);
  }
}

function showAddresses(vm: Engine, list: readonly number[], out: CliOutput): void {
  const vnet = vm.vnet;
  const ifs = vnet.interfaces;
  const rows = list.map((sw) => ({
    name: ifs.names[sw],
    state: ifs.adminUp[sw] === 1 ? 'up' : 'down',
    fibIndex: ifs.fibIndex[sw],
    addresses: ifs.ip4Addresses[sw].map((a) => `${formatIp4(a.address)}/${a.length}`),
  }));
  out.json(rows);
  for (const r of rows) {
    out.print(`${r.name} (${r.state === 'up' ? 'up' : 'dn'}):`);
    // VPP names the table of an interface that is not in the default one.
    const table = r.fibIndex === 0 ? '' : ` ip4 table-id ${vnet.fib.tableIdOf(r.fibIndex)} fib-idx ${r.fibIndex}`;
    for (const a of r.addresses) out.print(`  L3 ${a}${table}`);
  }
}

function showHardware(vm: Engine, list: readonly number[], brief: boolean, out: CliOutput): void {
  const ifs = vm.vnet.interfaces;
  const rows = list.map((sw) => ({
    name: ifs.names[sw],
    index: sw,
    link: ifs.adminUp[sw] === 1 ? 'up' : 'down',
    device: ifs.devices[sw]?.name ?? 'local',
    mac: sw === 0 ? null : ifs.macText(sw),
    details: sw === 0 ? [] : (ifs.devices[sw]?.formatHardware?.(sw) ?? []),
  }));
  out.json(rows);
  out.print(`${center('Name', 32)}${center('Idx', 6)}${center('Link', 8)}Hardware`);
  for (const r of rows) {
    out.print(`${r.name.padEnd(32)}${center(String(r.index), 6)}${center(r.link, 8)}${r.name}`);
    if (brief) continue;
    out.print('  Link speed: unknown');
    if (r.mac === null) out.print('  local');
    else out.print(`  Ethernet address ${r.mac}`);
    for (const line of r.details) out.print(`  ${line}`);
  }
}
