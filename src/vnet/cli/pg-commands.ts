// Packet generator CLI (VPP's src/vnet/pg/cli.c): pg interfaces, streams from a pcap file
// or from VPP's stream syntax, enabling and disabling streams, per-interface capture to
// pcap, and `show packet-generator`. As every command here, `packet-generator new` reads
// its whole input (and the pcap file) before it changes anything.
//
//   packet-generator new pcap <file> source pg<N> name <stream> [limit <n>] [maxframe <n>] [node <node>]
//   packet-generator new { name <s> limit <n> size <a>-<b> [rate <pps>] node <node>
//                          [interface <if>] [maxframe <n>] data { … } }       (pg-edit.ts)

import { CliError, type CliInput, type CliRegistry } from '../../vlib/cli.ts';
import type { Engine } from '../../vlib/engine.ts';
import { center, exponential } from '../../vlib/format.ts';
import { buildPgPackets, parsePgData, type PgPacketSpec } from '../devices/pg-edit.ts';
import { PacketGenerator } from '../devices/pg.ts';
import { readInterface } from './interface-commands.ts';
import type {} from '../vnet.ts';

type Registry = CliRegistry<Engine>;

const PG_NAME = /^pg(\d{1,9})$/;
const RATE = /^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function readPgId(input: CliInput, what: string): number {
  const word = input.expectWord(what);
  const m = PG_NAME.exec(word);
  if (m === null) throw new CliError(`expected pg<N> for ${what}, got '${word}'`);
  return Number(m[1]);
}

function readSize(input: CliInput): { min: number; max: number } {
  const word = input.expectWord('size');
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(word);
  if (m === null) throw new CliError(`expected <min>-<max> for size, got '${word}'`);
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : Number(m[2]);
  if (min < 1 || max > 65535) throw new CliError(`bad size '${word}' (expected sizes 1..65535)`);
  return { min, max };
}

function readRate(input: CliInput): number {
  const word = input.expectWord('rate');
  if (!RATE.test(word)) throw new CliError(`expected packets per second for rate, got '${word}'`);
  return Number(word);
}

export function registerPgCommands(cli: Registry): void {
  cli.register({
    path: 'create packet-generator interface',
    short: 'Create a packet-generator interface',
    usage: 'create packet-generator interface pg<N> [hw-addr <mac>]',
    action(vm, input) {
      const id = readPgId(input, 'interface name');
      let mac: Uint8Array | undefined;
      while (!input.atEnd()) {
        if (input.keyword('hw-addr')) mac = input.expectMac('hw-addr');
        else input.fail();
      }
      vm.vnet.pg.createInterface(id, mac);
    },
  });
  cli.register({
    path: 'packet-generator new',
    short: 'Create a packet generator stream',
    usage:
      'packet-generator new [{] name <name> (pcap <file> | data { ... }) [source pg<N>] [limit <n>] [maxframe <n>] ' +
      '[size <min>-<max>] [rate <pps>] [node <node>] [interface <if>] [}]',
    action(vm, input) {
      const block = input.block();
      if (block !== null) input.expectEnd();
      const args = block ?? input;
      let name: string | undefined;
      let pcap: string | undefined;
      let spec: PgPacketSpec | undefined;
      let source: number | undefined;
      let limit: number | undefined;
      let maxFrame: number | undefined;
      let size: { min: number; max: number } | undefined;
      let rate: number | undefined;
      let node: string | undefined;
      let rxInterface: number | undefined;
      while (!args.atEnd()) {
        if (args.keyword('name')) name = args.expectWord('stream name');
        else if (args.keyword('pcap')) pcap = args.expectWord('pcap file');
        else if (args.keyword('data')) spec = parsePgData(args.expectBlock('data'));
        else if (args.keyword('source')) source = readPgId(args, 'source');
        else if (args.keyword('limit')) limit = args.expectNumber('limit');
        else if (args.keyword('maxframe')) maxFrame = args.expectNumber('maxframe', { min: 1, max: vm.frameSize });
        else if (args.keyword('size')) size = readSize(args);
        else if (args.keyword('rate')) rate = readRate(args);
        else if (args.keyword('interface')) rxInterface = readInterface(vm, args);
        else if (args.keyword('worker')) args.expectNumber('worker', { max: 0 });
        else if (args.keyword('node')) {
          const word = args.expectWord('node');
          if (vm.node(word) !== undefined) node = word;
          else if (vm.vnet.interfaces.find(word) >= 0) node = `${word}-output`; // VPP: `node <interface>` = its output
          else throw new CliError(`unknown node '${word}'`, 'ENOENT');
        } else args.fail();
      }
      if (pcap !== undefined && spec !== undefined) throw new CliError("give either 'pcap <file>' or 'data { ... }', not both");
      if (pcap === undefined && spec === undefined) throw new CliError("no packet data given: add 'pcap <file>' or 'data { ... }'");
      let packets: Uint8Array[];
      let ethernet: boolean;
      if (pcap !== undefined) {
        if (size !== undefined) throw new CliError("'size' applies to 'data { ... }' streams, not to pcap streams");
        packets = PacketGenerator.readPcapPackets(pcap);
        ethernet = true;
        // VPP: a pcap stream without a limit plays its file once.
        limit ??= packets.length;
      } else {
        packets = buildPgPackets(spec!, size?.min ?? 0, size?.max ?? 0);
        ethernet = spec!.ethernet !== undefined;
        node ??= ethernet ? 'ethernet-input' : 'ip4-input';
      }
      const pg = vm.vnet.pg;
      pg.addStream({
        name: name ?? `stream${pg.streams.length}`,
        packets,
        source,
        rxInterface,
        limit,
        maxFrame,
        rate,
        node,
        ethernet,
        minSize: size?.min,
        maxSize: size?.max,
      });
    },
  });
  for (const [path, enable] of [['packet-generator enable-stream', true], ['packet-generator disable-stream', false]] as const) {
    cli.register({
      path,
      short: `${enable ? 'Enable' : 'Disable'} packet generator streams`,
      usage: `${path} [<stream-name>]`,
      action(vm, input) {
        const name = input.atEnd() ? undefined : input.expectWord('stream name');
        input.expectEnd();
        vm.vnet.pg.setEnabled(name, enable);
      },
    });
  }
  cli.register({
    path: 'packet-generator delete',
    short: 'Delete a packet generator stream',
    usage: 'packet-generator delete <stream-name>',
    action(vm, input) {
      const name = input.expectWord('stream name');
      input.expectEnd();
      vm.vnet.pg.deleteStream(name);
    },
  });
  cli.register({
    path: 'packet-generator capture',
    short: 'Capture what a packet-generator interface sends',
    usage: 'packet-generator capture <interface> pcap <filename> [count <n>] | <interface> disable',
    action(vm, input) {
      const sw = readInterface(vm, input);
      let file: string | undefined;
      let count: number | undefined;
      let disable = false;
      while (!input.atEnd()) {
        if (input.keyword('pcap')) file = input.expectWord('pcap file');
        else if (input.keyword('count')) count = input.expectNumber('count', { min: 1 });
        else if (input.keyword('disable')) disable = true;
        else input.fail();
      }
      const pg = vm.vnet.pg;
      if (!pg.isPgInterface(sw)) throw new CliError(`${vm.vnet.interfaces.names[sw]} is not a packet-generator interface`, 'ENOTSUP');
      if (disable) {
        if (file !== undefined || count !== undefined) throw new CliError("'disable' takes no pcap file or count");
        pg.stopCapture(sw);
        return;
      }
      if (file === undefined) throw new CliError("expected 'pcap <filename>' (or 'disable')");
      pg.startCapture(sw, file, count);
    },
  });
  cli.register({
    path: 'show packet-generator',
    short: 'Show packet generator streams',
    usage: 'show packet-generator [verbose]',
    json: true,
    action(vm, input, out) {
      const verbose = input.keyword('verbose');
      input.expectEnd();
      const pg = vm.vnet.pg;
      const dataSize = vm.pool.dataSize;
      const rows = pg.streams.map((s) => ({
        name: s.name,
        enabled: s.enabled,
        count: s.generated,
        limit: s.limit,
        rate: s.rate,
        minSize: s.minSize,
        maxSize: s.maxSize,
        maxFrame: s.maxFrame,
        node: s.node,
        interface: vm.vnet.interfaces.names[s.rxInterface],
        packets: s.templates.length,
      }));
      out.json(rows);
      if (rows.length === 0) {
        out.print('no streams currently defined');
        return;
      }
      out.print(`${'Name'.padEnd(16)}${center('Enabled', 12)}${center('Count', 16)}Parameters`);
      for (const r of rows) {
        out.print(
          `${r.name.padEnd(16)}${center(r.enabled ? 'Yes' : 'No', 12)}${center(String(r.count), 16)}` +
            `limit ${r.limit}, rate ${exponential(r.rate, 2)} pps, size ${r.minSize}-${r.maxSize}, buffer-size ${dataSize}, worker 0, `,
        );
        if (verbose) {
          out.print(`${' '.repeat(44)}node ${r.node}, interface ${r.interface}, maxframe ${r.maxFrame}, ${r.packets} packet template${r.packets === 1 ? '' : 's'}`);
        }
      }
    },
  });
}
