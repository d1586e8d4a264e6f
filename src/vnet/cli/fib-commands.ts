// CLI of the IPv4 FIB and the neighbor table, in VPP's syntax and layouts:
//   ip table [add|del] <table-id>
//   ip route [add|del] <prefix> [table <id>] via <next-hop> [<interface>] [weight <n>] …
//            (`via <interface>` attached, `via drop`, `via local`; `via` repeats for ECMP)
//   set ip neighbor [del] <interface> <ip> <mac> [static]      (also `ip neighbor …`)
//   show ip fib [table <id>] [index <fib-index>] [<prefix>|<address>] [summary]
//   show ip neighbors [<interface>]                            (`show ip neighbor` by prefix)
// Each command reads all its input first (a bad token stops it with one line naming the
// token, before anything changes), then calls the same FIB / neighbor action the API uses.
// `show ip fib` prints VPP's format_fib_entry: brief for a table listing, detailed for one
// prefix; `[@N]` before an adjacency is ip4-lookup's next index for it, as in VPP (here
// drop 0, local 1, glean 2, arp 3, rewrite 4). `--json` gives the same entries as data.

import { CliError, type CliInput, type CliOutput, type CliRegistry } from '../../vlib/cli.ts';
import type { Engine } from '../../vlib/engine.ts';
import { center } from '../../vlib/format.ts';
import { formatIp4, formatMac, ip4Mask, parseIp4, parseIp4Prefix } from '../../wire/address.ts';
import { ADJACENCY_KIND_NAMES } from '../fib/adjacency.ts';
import { SOURCE_DISPLAY_NAMES, type FibEntryInfo, type FibPath, type RoutePath } from '../fib/ip4-fib.ts';

type Registry = CliRegistry<Engine>;

/** Words that end a `via` path's optional interface. */
const ROUTE_KEYWORDS = new Set(['via', 'weight', 'table', 'preference']);
const MAX_TABLE_ID = 0xffffffff;

function prefixText(address: number, length: number): string {
  return `${formatIp4(address)}/${length}`;
}

function expectTableId(input: CliInput): number {
  return input.expectNumber('table id', { min: 0, max: MAX_TABLE_ID });
}

function fibIndexFor(vm: Engine, tableId: number): number {
  const fibIndex = vm.vnet.fib.fibIndexOf(tableId);
  if (fibIndex < 0) throw new CliError(`table ${tableId} does not exist (create it with 'ip table add ${tableId}')`, 'ENOENT');
  return fibIndex;
}

// ---------------------------------------------------------------------- ip route

interface ParsedRoute {
  isDel: boolean;
  address: number;
  length: number;
  tableId: number;
  paths: { -readonly [K in keyof RoutePath]: RoutePath[K] }[];
}

function parseRoute(vm: Engine, input: CliInput): ParsedRoute {
  let isDel = false;
  if (input.keyword('del')) isDel = true;
  else input.keyword('add');
  const prefix = expectPrefixOrAddress(input, 'destination');
  const route: ParsedRoute = { isDel, address: prefix.address, length: prefix.length, tableId: 0, paths: [] };
  while (!input.atEnd()) {
    if (input.keyword('table')) route.tableId = expectTableId(input);
    else if (input.keyword('via')) route.paths.push(parseVia(vm, input));
    else if (input.keyword('weight')) {
      const last = route.paths[route.paths.length - 1];
      if (last === undefined) throw new CliError("'weight' must follow a 'via' path");
      last.weight = input.expectNumber('weight', { min: 1, max: 255 });
    } else if (input.keyword('preference')) {
      // Accepted for VPP scripts; vecnet keeps one preference.
      input.expectNumber('preference', { min: 0, max: 255 });
    } else input.fail();
  }
  return route;
}

/** `a.b.c.d/len`, or a bare address as a /32 (as VPP's `ip route` and `show ip fib` take it). */
function prefixOrAddress(word: string | undefined): { address: number; length: number } | null {
  if (word === undefined) return null;
  const prefix = parseIp4Prefix(word);
  if (prefix !== null) return prefix;
  const address = parseIp4(word);
  return address === null ? null : { address, length: 32 };
}

function expectPrefixOrAddress(input: CliInput, what: string): { address: number; length: number } {
  const prefix = prefixOrAddress(input.peek());
  if (prefix === null) return input.expectIp4Prefix(what); // throws: names the token
  input.next();
  return prefix;
}

function parseVia(vm: Engine, input: CliInput): ParsedRoute['paths'][number] {
  if (input.keyword('drop')) return { special: 'drop' };
  if (input.keyword('local')) return { special: 'local' };
  const nextHop = input.ip4();
  if (nextHop !== null) {
    const next = input.peek();
    if (next === undefined || ROUTE_KEYWORDS.has(next)) return { nextHop };
    return { nextHop, swIfIndex: vm.vnet.interfaces.expect(input.next() as string) };
  }
  const name = input.word();
  if (name === null || ROUTE_KEYWORDS.has(name)) {
    throw new CliError(`expected a next hop, an interface, 'drop' or 'local' after 'via', got ${name === null ? 'end of input' : `'${name}'`}`);
  }
  return { swIfIndex: vm.vnet.interfaces.expect(name) };
}

// ---------------------------------------------------------------------- show ip fib

function sourceFlags(info: FibEntryInfo, source: string): string {
  const s = info.sources.find((x) => x.source === source);
  if (s === undefined) return '';
  const kinds = new Set(s.paths.map((p) => p.kind));
  const flags: string[] = [];
  const connected = source === 'interface';
  if (kinds.has('attached')) flags.push(...(connected ? ['attached', 'connected'] : ['attached']));
  else if (kinds.has('local')) flags.push(...(connected ? ['connected', 'local'] : ['local']));
  else if (source === 'adjacency' || (source === 'interface' && kinds.has('neighbor'))) flags.push('attached');
  if (kinds.size === 1 && kinds.has('drop')) flags.push('drop');
  return flags.length === 0 ? '' : `entry-flags:${flags.join(',')}, `;
}

function pathTypeName(path: FibPath): string {
  switch (path.kind) {
    case 'neighbor':
      return 'attached-nexthop';
    case 'attached':
      return 'attached';
    case 'recursive':
      return 'recursive';
    case 'local':
      return 'receive';
    default:
      return 'special';
  }
}

function formatLoadBalance(vm: Engine, info: FibEntryInfo, indent: string): string[] {
  const lbs = vm.vnet.loadBalances;
  const fib = vm.vnet.fib;
  const lb = info.loadBalance;
  const lines = [
    `${indent}[@0]: dpo-load-balance: [proto:ip4 index:${lb} buckets:${lbs.size[lb]} uRPF:${info.pathList} to:[${lbs.packets[lb]}:${lbs.bytes[lb]}]]`,
  ];
  lbs.bucketsOf(lb).forEach((adj, i) => {
    lines.push(`${indent}  [${i}] [@${vm.vnet.adjacencies.kind[adj]}]: ${fib.formatAdjacency(adj)}`);
  });
  return lines;
}

function formatEntryBrief(vm: Engine, info: FibEntryInfo): string[] {
  return [prefixText(info.address, info.length), '  unicast-ip4-chain', ...formatLoadBalance(vm, info, '  ')];
}

function formatEntryDetail(vm: Engine, info: FibEntryInfo): string[] {
  const fib = vm.vnet.fib;
  const ifs = vm.vnet.interfaces;
  const lines = [`${prefixText(info.address, info.length)} fib:${info.fibIndex} index:${info.index} locks:${info.sources.length + 1}`];
  info.sources.forEach((s, i) => {
    const active = i === 0 ? 'added,contributing,active,' : 'added,';
    lines.push(`  ${SOURCE_DISPLAY_NAMES[s.source]} refs:1 ${sourceFlags(info, s.source)}src-flags:${active}`);
    const itfs = [...new Set(s.paths.filter((p) => p.swIfIndex > 0).map((p) => p.swIfIndex))];
    const resolution = fib.pathListResolution(s.pathList);
    const plFlags = s.paths.every((p) => p.kind === 'drop') ? 'drop, ' : s.paths.some((p) => p.kind === 'local') ? 'local, ' : 'shared, ';
    lines.push(`    path-list:[${s.pathList}] locks:${fib.pathListLocks(s.pathList)} flags:${plFlags}uPRF-list:${s.pathList} len:${s.paths.length} itfs:[${itfs.map((x) => `${x}, `).join('')}]`);
    for (const path of s.paths) {
      const resolved = path.kind !== 'recursive' || resolution.some(([adj]) => adj !== fib.dropAdjacency);
      const cfg = path.kind === 'drop' ? 'cfg-flags:drop,' : `oper-flags:${resolved ? 'resolved,' : ''}`;
      lines.push(`      path:[${s.pathList}] pl-index:${s.pathList} ip4 weight=${path.weight} pref=0 ${pathTypeName(path)}:  ${cfg}`);
      const name = ifs.names[path.swIfIndex] ?? '';
      switch (path.kind) {
        case 'neighbor': {
          lines.push(`        ${formatIp4(path.nextHop)} ${name}`);
          const adj = vm.vnet.adjacencies.findNeighbor(path.swIfIndex, path.nextHop);
          if (adj >= 0) lines.push(`      [@0]: ${fib.formatAdjacency(adj)}`);
          break;
        }
        case 'attached':
          lines.push(`        ${name}`);
          lines.push(`      [@0]: ${fib.formatAdjacency(fib.gleanAdjacencyOf(path.swIfIndex))}`);
          break;
        case 'recursive': {
          const via = fib.longestMatch(info.fibIndex, path.nextHop);
          lines.push(`        via ${formatIp4(path.nextHop)} in fib:${info.fibIndex} via-fib:${via.index} via-dpo:[dpo-load-balance:${via.loadBalance}]`);
          break;
        }
        default: {
          const adj = resolution.find(() => true)?.[0];
          if (adj !== undefined) lines.push(`        [@0]: ${fib.formatAdjacency(adj)}`);
        }
      }
    }
  });
  lines.push('', ' forwarding:   unicast-ip4-chain', ...formatLoadBalance(vm, info, '  '));
  return lines;
}

function tableHeader(vm: Engine, tableId: number, fibIndex: number): string {
  const fib = vm.vnet.fib;
  const table = fib.allTables().find((t) => t.fibIndex === fibIndex);
  const locks: string[] = [];
  if (table?.createdByUser) locks.push('CLI:1');
  const bound = fibIndex === 0 ? 0 : fib.interfaceBindings(fibIndex);
  if (bound > 0) locks.push(`interface:${bound}`);
  const adjacency = fib.sourceCount(fibIndex, 'adjacency');
  if (adjacency > 0) locks.push(`adjacency:${adjacency}`);
  if (fibIndex === 0) locks.push('default-route:1');
  return `ipv4-VRF:${tableId}, fib_index:${fibIndex}, flow hash:[src dst sport dport proto flowlabel ] epoch:0 flags:none locks:[${locks.map((l) => `${l}, `).join('')}]`;
}

function entryJson(vm: Engine, info: FibEntryInfo): unknown {
  const lbs = vm.vnet.loadBalances;
  const adjs = vm.vnet.adjacencies;
  const ifs = vm.vnet.interfaces;
  const lb = info.loadBalance;
  return {
    prefix: prefixText(info.address, info.length),
    index: info.index,
    pathList: info.pathList,
    sources: info.sources.map((s) => ({
      source: s.source,
      pathList: s.pathList,
      paths: s.paths.map((p) => ({
        kind: p.kind,
        ...(p.kind === 'neighbor' || p.kind === 'recursive' || p.kind === 'local' ? { nextHop: formatIp4(p.nextHop) } : {}),
        ...(p.swIfIndex > 0 ? { interface: ifs.names[p.swIfIndex] } : {}),
        weight: p.weight,
      })),
    })),
    loadBalance: {
      index: lb,
      buckets: lbs.bucketsOf(lb).map((adj) => ({
        adjacency: adj,
        kind: ADJACENCY_KIND_NAMES[adjs.kind[adj]],
        text: vm.vnet.fib.formatAdjacency(adj),
      })),
      packets: lbs.packets[lb],
      bytes: lbs.bytes[lb],
    },
  };
}

function showIpFib(vm: Engine, input: CliInput, out: CliOutput): void {
  const fib = vm.vnet.fib;
  let tableId: number | undefined;
  let fibIndex: number | undefined;
  let match: { address: number; length: number } | undefined;
  let summary = false;
  while (!input.atEnd()) {
    if (input.keyword('table')) tableId = expectTableId(input);
    else if (input.keyword('index')) fibIndex = input.expectNumber('fib index', { min: 0, max: 0xffff });
    else if (input.keyword('summary') || input.keyword('sum') || input.keyword('brief')) summary = true;
    else if (prefixOrAddress(input.peek()) !== null) match = expectPrefixOrAddress(input, 'prefix');
    else input.fail();
  }
  if (tableId !== undefined) fibIndexFor(vm, tableId);
  const tables = fib.allTables().filter((t) => (tableId === undefined || t.tableId === tableId) && (fibIndex === undefined || t.fibIndex === fibIndex));
  const lines: string[] = [];
  const json: unknown[] = [];
  for (const t of tables) {
    lines.push(tableHeader(vm, t.tableId, t.fibIndex));
    if (summary) {
      const counts = new Array<number>(33).fill(0);
      for (const e of fib.entries(t.fibIndex)) counts[e.length]++;
      lines.push(`${center('Prefix length', 20)}${center('Count', 16)}`);
      counts.forEach((n, length) => {
        if (n > 0) lines.push(`${String(length).padStart(20)}${String(n).padStart(16)}`);
      });
      json.push({ tableId: t.tableId, fibIndex: t.fibIndex, prefixLengths: Object.fromEntries(counts.flatMap((n, l) => (n > 0 ? [[l, n]] : []))) });
      continue;
    }
    const entries = match === undefined ? fib.entries(t.fibIndex) : [fib.longestMatch(t.fibIndex, match.address, match.length)];
    for (const e of entries) lines.push(...(match === undefined ? formatEntryBrief(vm, e) : formatEntryDetail(vm, e)));
    json.push({ tableId: t.tableId, fibIndex: t.fibIndex, entries: entries.map((e) => entryJson(vm, e)) });
  }
  out.print(lines.join('\n'));
  out.json(json);
}

// ---------------------------------------------------------------------- neighbors

function setIpNeighbor(vm: Engine, input: CliInput): void {
  const isDel = input.keyword('del');
  const name = input.expectWord('interface');
  const ip = input.expectIp4('neighbor address');
  const mac = isDel ? input.mac() : input.expectMac('neighbor MAC address');
  let isStatic = false;
  while (!input.atEnd()) {
    if (input.keyword('static')) isStatic = true;
    else if (input.keyword('del') && !isDel) throw new CliError("'del' goes before the interface: set ip neighbor del <interface> <ip>");
    else input.fail();
  }
  const sw = vm.vnet.interfaces.expect(name);
  if (isDel) {
    if (!vm.vnet.neighbors.delete(sw, ip)) throw new CliError(`no neighbor ${formatIp4(ip)} on ${name}`, 'ENOENT');
    return;
  }
  vm.vnet.neighbors.add(sw, ip, mac as Uint8Array, isStatic);
}

function showIpNeighbors(vm: Engine, input: CliInput, out: CliOutput): void {
  let sw = -1;
  if (!input.atEnd()) sw = vm.vnet.interfaces.expect(input.expectWord('interface'));
  input.expectEnd();
  const now = vm.nowNs();
  const ifs = vm.vnet.interfaces;
  const rows = vm.vnet.neighbors.all().filter((n) => sw < 0 || n.swIfIndex === sw);
  // VPP's format_ip_neighbor: "%=12U%=40U%=6U%=20U%U", the age right-aligned.
  const lines = [`${center('Age', 12)}${center('IP', 40)}${center('Flags', 6)}${center('Ethernet', 20)}${center('Interface', 24)}`];
  const json: unknown[] = [];
  for (const n of rows) {
    const age = ((now - n.updatedNs) / 1e9).toFixed(4);
    const flags = n.isStatic ? 'S' : 'D';
    const mac = formatMac(n.mac);
    lines.push(`${age.padStart(12)}${center(formatIp4(n.address), 40)}${center(flags, 6)}${center(mac, 20)}${ifs.names[n.swIfIndex]}`);
    json.push({ age: Number(age), ip: formatIp4(n.address), flags, ethernet: mac, interface: ifs.names[n.swIfIndex] });
  }
  out.print(lines.join('\n'));
  out.json(json);
}

export function registerFibCommands(cli: Registry): void {
  cli.register({
    path: 'ip table',
    short: 'Add or delete an IPv4 table (VRF)',
    usage: 'ip table [add|del] <table-id>',
    action(vm, input) {
      const isDel = input.keyword('del');
      if (!isDel) input.keyword('add');
      const tableId = expectTableId(input);
      input.expectEnd();
      if (isDel) vm.vnet.fib.deleteTable(tableId);
      else vm.vnet.fib.createTable(tableId);
    },
  });
  cli.register({
    path: 'ip route',
    short: 'Add or delete IPv4 routes',
    usage: 'ip route [add|del] <a.b.c.d/len> [table <id>] via <next-hop> [<interface>] [weight <n>] | via <interface> | via drop | via local ...',
    action(vm, input) {
      const route = parseRoute(vm, input);
      const fibIndex = fibIndexFor(vm, route.tableId);
      const address = (route.address & ip4Mask(route.length)) >>> 0;
      if (route.isDel) {
        vm.vnet.fib.deleteRoute(fibIndex, address, route.length, 'cli', route.paths.length > 0 ? route.paths : undefined);
        return;
      }
      if (route.paths.length === 0) throw new CliError("missing path: expected 'via <next-hop> [<interface>]', 'via <interface>', 'via drop' or 'via local'");
      // `via local`: the receive adjacency is for the route's own address (VPP's receive DPO).
      for (const path of route.paths) if (path.special === 'local' && path.nextHop === undefined) path.nextHop = address;
      vm.vnet.fib.addPaths(fibIndex, address, route.length, route.paths, 'cli');
    },
  });
  const neighborCommand = {
    short: 'Add or delete an IPv4 neighbor (ARP entry)',
    usage: 'set ip neighbor [del] <interface> <ip-address> <mac-address> [static]',
    action: (vm: Engine, input: CliInput) => setIpNeighbor(vm, input),
  };
  cli.register({ path: 'set ip neighbor', ...neighborCommand });
  cli.register({ path: 'ip neighbor', ...neighborCommand, usage: 'ip neighbor [del] <interface> <ip-address> <mac-address> [static]' });
  cli.register({
    path: 'show ip fib',
    short: 'Show the IPv4 FIB tables and their entries',
    usage: 'show ip fib [summary] [table <table-id>] [index <fib-index>] [<a.b.c.d>[/<len>]]',
    json: true,
    action: showIpFib,
  });
  cli.register({
    path: 'show ip neighbors',
    short: 'Show the IPv4 neighbor (ARP) table',
    usage: 'show ip neighbors [<interface>]',
    json: true,
    action: showIpNeighbors,
  });
}
