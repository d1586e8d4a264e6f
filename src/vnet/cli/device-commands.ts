// CLI of the device classes that reach beyond the engine (VPP's syntax): tap, host
// interfaces (af_packet), UDP socket interfaces and veth pairs. Each command parses all
// of its input first, then calls the device's action — the same one the API uses — and
// prints the new interface's name, as VPP's create commands do.

import { CliError, type CliInput, type CliRegistry } from '../../vlib/cli.ts';
import type { Engine } from '../../vlib/engine.ts';
import { parseIp4 } from '../../wire/address.ts';
import type { Endpoint } from '../devices/socket.ts';
import type { TapOptions } from '../devices/tap.ts';

type Registry = CliRegistry<Engine>;

/** `<ip>:<port>` (port 0: any free port). */
function expectEndpoint(input: CliInput, what: string): Endpoint {
  const word = input.expectWord(what);
  const colon = word.lastIndexOf(':');
  const address = colon < 0 ? null : parseIp4(word.slice(0, colon));
  const portText = colon < 0 ? '' : word.slice(colon + 1);
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : -1;
  if (address === null || port < 0 || port > 65535) throw new CliError(`bad ${what} '${word}' (expected <a.b.c.d>:<port>)`);
  return { address, port };
}

function expectInterface(vm: Engine, input: CliInput): number {
  const name = input.expectWord('interface');
  const sw = vm.vnet.interfaces.find(name);
  if (sw < 0 || vm.vnet.interfaces.exists[sw] === 0) throw new CliError(`unknown interface '${name}'`);
  return sw;
}

export function registerDeviceCommands(cli: Registry): void {
  cli.register({
    path: 'create tap',
    short: 'Create a Linux TAP interface',
    usage: 'create tap [id <n>] [hw-addr <mac>] [host-if-name <name>] [host-ns <netns>] [host-ip4-addr <a.b.c.d/len>] [host-mac-addr <mac>]',
    action(vm, input, out) {
      const options: { -readonly [K in keyof TapOptions]: TapOptions[K] } = {};
      while (!input.atEnd()) {
        if (input.keyword('id')) options.id = input.expectNumber('id', { min: 0, max: 65535 });
        else if (input.keyword('hw-addr')) options.hwAddr = input.expectMac('hw-addr');
        else if (input.keyword('host-if-name')) options.hostIfName = input.expectWord('host-if-name');
        else if (input.keyword('host-ns')) options.hostNs = input.expectWord('host-ns');
        else if (input.keyword('host-ip4-addr')) options.hostIp4Addr = input.expectIp4Prefix('host-ip4-addr', true);
        else if (input.keyword('host-mac-addr')) options.hostMacAddr = input.expectMac('host-mac-addr');
        else input.fail();
      }
      const sw = vm.vnet.devices.taps.create(options);
      out.print(vm.vnet.interfaces.names[sw]);
    },
  });
  cli.register({
    path: 'delete tap',
    short: 'Delete a TAP interface',
    usage: 'delete tap <interface>',
    action(vm, input) {
      const sw = expectInterface(vm, input);
      input.expectEnd();
      vm.vnet.devices.taps.delete(sw);
    },
  });
  cli.register({
    path: 'create host-interface',
    short: 'Create a host interface (AF_PACKET on a Linux interface)',
    usage: 'create host-interface name <ifname> [hw-addr <mac>]',
    action(vm, input, out) {
      let name: string | undefined;
      let hwAddr: Uint8Array | undefined;
      while (!input.atEnd()) {
        if (input.keyword('name')) name = input.expectWord('name');
        else if (input.keyword('hw-addr')) hwAddr = input.expectMac('hw-addr');
        else input.fail();
      }
      if (name === undefined) throw new CliError("missing host interface name ('name <ifname>')");
      const sw = vm.vnet.devices.hosts.create(name, hwAddr);
      out.print(vm.vnet.interfaces.names[sw]);
    },
  });
  cli.register({
    path: 'delete host-interface',
    short: 'Delete a host interface',
    usage: 'delete host-interface name <ifname>',
    action(vm, input) {
      input.expectKeyword('name');
      const name = input.expectWord('name');
      input.expectEnd();
      vm.vnet.devices.hosts.delete(name);
    },
  });
  cli.register({
    path: 'create socket-interface',
    short: 'Create an interface whose frames travel as UDP datagrams',
    usage: 'create socket-interface local <ip>:<port> remote <ip>:<port> [vxlan-vni <n>] [hw-addr <mac>]',
    async action(vm, input, out) {
      let local: Endpoint | undefined;
      let remote: Endpoint | undefined;
      let vni: number | undefined;
      let hwAddr: Uint8Array | undefined;
      while (!input.atEnd()) {
        if (input.keyword('local')) local = expectEndpoint(input, 'local');
        else if (input.keyword('remote')) remote = expectEndpoint(input, 'remote');
        else if (input.keyword('vxlan-vni')) vni = input.expectNumber('vxlan-vni', { min: 0, max: 0xffffff });
        else if (input.keyword('hw-addr')) hwAddr = input.expectMac('hw-addr');
        else input.fail();
      }
      if (local === undefined) throw new CliError("missing 'local <ip>:<port>'");
      if (remote === undefined) throw new CliError("missing 'remote <ip>:<port>'");
      const sw = await vm.vnet.devices.sockets.create({ local, remote, vni, hwAddr });
      out.print(vm.vnet.interfaces.names[sw]);
    },
  });
  cli.register({
    path: 'delete socket-interface',
    short: 'Delete a socket interface',
    usage: 'delete socket-interface <interface>',
    action(vm, input) {
      const sw = expectInterface(vm, input);
      input.expectEnd();
      vm.vnet.devices.sockets.delete(sw);
    },
  });
  cli.register({
    path: 'create veth-pair',
    short: 'Create two interfaces joined by an in-engine cable',
    usage: 'create veth-pair <name-a> <name-b>',
    action(vm, input, out) {
      const a = input.expectWord('name-a');
      const b = input.expectWord('name-b');
      input.expectEnd();
      const [swA, swB] = vm.vnet.devices.veths.create(a, b);
      out.print(`${vm.vnet.interfaces.names[swA]} ${vm.vnet.interfaces.names[swB]}`);
    },
  });
  cli.register({
    path: 'delete veth-pair',
    short: 'Delete a veth pair (both ends)',
    usage: 'delete veth-pair <interface>',
    action(vm, input) {
      const sw = expectInterface(vm, input);
      input.expectEnd();
      vm.vnet.devices.veths.delete(sw);
    },
  });
}
