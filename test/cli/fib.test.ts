// CLI transcripts for the FIB and neighbor commands: `ip table`, `ip route`, `set ip
// neighbor` / `ip neighbor`, `show ip fib`, `show ip neighbors`. Each transcript is the
// session as a user sees it: `vpp# <command>` then the expected output (or the one error
// line). Bad lines are checked to change nothing: `show ip fib` is the same before and
// after. Interfaces are made through the API (a device class that frees what it sends)
// with addresses set through vnet, so the transcripts exercise only these commands.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine } from '../../src/index.ts';
import { CliError } from '../../src/vlib/cli.ts';
import type { Engine } from '../../src/vlib/engine.ts';
import type { DeviceClass } from '../../src/vnet/interface.ts';
import { parseIp4, parseMac } from '../../src/wire/address.ts';

const sink: DeviceClass = {
  name: 'test',
  tx: (ctx, buffers, n) => {
    ctx.pool.free(buffers, 0, n);
    return 0;
  },
};

/** pg0 10.10.1.1/24, pg1 10.10.2.1/24, pg2 (no address), as the reference's pg0 → pg1 setup. */
function setup(): Engine {
  const vm = createEngine({ buffers: 256 });
  const ifs = vm.vnet.interfaces;
  const pg0 = ifs.create('pg0', sink, parseMac('02:fe:00:00:00:00') as Uint8Array);
  const pg1 = ifs.create('pg1', sink, parseMac('02:fe:00:00:00:01') as Uint8Array);
  ifs.create('pg2', sink, parseMac('02:fe:00:00:00:02') as Uint8Array);
  vm.vnet.addIp4Address(pg0, parseIp4('10.10.1.1') as number, 24);
  vm.vnet.addIp4Address(pg1, parseIp4('10.10.2.1') as number, 24);
  return vm;
}

/** Runs a command as vecnetctl shows it: its output, or its one error line. */
function run(vm: Engine, line: string): string {
  try {
    return vm.cli(line);
  } catch (error) {
    if (error instanceof CliError) return error.message;
    throw error;
  }
}

/** Neighbor ages change from run to run: shown as `?.????` in the age column. */
function normalizeAges(text: string): string {
  return text.replace(/^ *\d+\.\d{4}(?= )/gm, (age) => '?.????'.padStart(age.length));
}

/** Plays a transcript: `vpp# <command>` lines, each followed by the text it must print. */
function transcript(vm: Engine, text: string): void {
  const lines = text.replace(/^\n/, '').replace(/\n\s*$/, '').split('\n');
  let i = 0;
  while (i < lines.length) {
    assert.ok(lines[i].startsWith('vpp# '), `transcript line ${i + 1} is not a command: ${lines[i]}`);
    const command = lines[i++].slice(5);
    const expected: string[] = [];
    while (i < lines.length && !lines[i].startsWith('vpp# ')) expected.push(lines[i++]);
    assert.equal(normalizeAges(run(vm, command)), expected.join('\n'), `output of '${command}'`);
  }
}

const HEADER0 = 'ipv4-VRF:0, fib_index:0, flow hash:[src dst sport dport proto flowlabel ] epoch:0 flags:none locks:[default-route:1, ]';
const DROP_ENTRY = (prefix: string): string =>
  `${prefix}\n  unicast-ip4-chain\n  [@0]: dpo-load-balance: [proto:ip4 index:0 buckets:1 uRPF:0 to:[0:0]]\n    [0] [@0]: dpo-drop ip4`;

test('show ip fib: the table with connected, local, network/broadcast and special entries', () => {
  const vm = setup();
  transcript(vm, `
vpp# show ip fib
${HEADER0}
${DROP_ENTRY('0.0.0.0/0')}
${DROP_ENTRY('0.0.0.0/32')}
10.10.1.0/24
  unicast-ip4-chain
  [@0]: dpo-load-balance: [proto:ip4 index:1 buckets:1 uRPF:1 to:[0:0]]
    [0] [@2]: ipv4-glean: [src:10.10.1.0/24] pg0: mtu:9000 next:1 flags:[] ffffffffffff02fe000000000806
${DROP_ENTRY('10.10.1.0/32')}
10.10.1.1/32
  unicast-ip4-chain
  [@0]: dpo-load-balance: [proto:ip4 index:2 buckets:1 uRPF:2 to:[0:0]]
    [0] [@1]: dpo-receive: 10.10.1.1 on pg0
${DROP_ENTRY('10.10.1.255/32')}
10.10.2.0/24
  unicast-ip4-chain
  [@0]: dpo-load-balance: [proto:ip4 index:3 buckets:1 uRPF:3 to:[0:0]]
    [0] [@2]: ipv4-glean: [src:10.10.2.0/24] pg1: mtu:9000 next:1 flags:[] ffffffffffff02fe000000010806
${DROP_ENTRY('10.10.2.0/32')}
10.10.2.1/32
  unicast-ip4-chain
  [@0]: dpo-load-balance: [proto:ip4 index:4 buckets:1 uRPF:4 to:[0:0]]
    [0] [@1]: dpo-receive: 10.10.2.1 on pg1
${DROP_ENTRY('10.10.2.255/32')}
${DROP_ENTRY('224.0.0.0/4')}
${DROP_ENTRY('240.0.0.0/4')}
${DROP_ENTRY('255.255.255.255/32')}
vpp# show ip fib summary
${HEADER0}
    Prefix length         Count     
                   0               1
                   4               2
                  24               2
                  32               8
vpp# show ip fib 10.10.1.1
${HEADER0}
10.10.1.1/32 fib:0 index:8 locks:2
  interface refs:1 entry-flags:connected,local, src-flags:added,contributing,active,
    path-list:[2] locks:1 flags:local, uPRF-list:2 len:1 itfs:[1, ]
      path:[2] pl-index:2 ip4 weight=1 pref=0 receive:  oper-flags:resolved,
        [@0]: dpo-receive: 10.10.1.1 on pg0

 forwarding:   unicast-ip4-chain
  [@0]: dpo-load-balance: [proto:ip4 index:2 buckets:1 uRPF:2 to:[0:0]]
    [0] [@1]: dpo-receive: 10.10.1.1 on pg0
vpp# show ip fib 10.10.1.77/24
${HEADER0}
10.10.1.0/24 fib:0 index:5 locks:2
  interface refs:1 entry-flags:attached,connected, src-flags:added,contributing,active,
    path-list:[1] locks:1 flags:shared, uPRF-list:1 len:1 itfs:[1, ]
      path:[1] pl-index:1 ip4 weight=1 pref=0 attached:  oper-flags:resolved,
        pg0
      [@0]: ipv4-glean: [src:10.10.1.0/24] pg0: mtu:9000 next:1 flags:[] ffffffffffff02fe000000000806

 forwarding:   unicast-ip4-chain
  [@0]: dpo-load-balance: [proto:ip4 index:1 buckets:1 uRPF:1 to:[0:0]]
    [0] [@2]: ipv4-glean: [src:10.10.1.0/24] pg0: mtu:9000 next:1 flags:[] ffffffffffff02fe000000000806
vpp# show ip fib 8.8.8.8
${HEADER0}
0.0.0.0/0 fib:0 index:0 locks:2
  default-route refs:1 entry-flags:drop, src-flags:added,contributing,active,
    path-list:[0] locks:10 flags:drop, uPRF-list:0 len:1 itfs:[]
      path:[0] pl-index:0 ip4 weight=1 pref=0 special:  cfg-flags:drop,
        [@0]: dpo-drop ip4

 forwarding:   unicast-ip4-chain
  [@0]: dpo-load-balance: [proto:ip4 index:0 buckets:1 uRPF:0 to:[0:0]]
    [0] [@0]: dpo-drop ip4
`);
});

test('ip route: next hop with interface, neighbor resolution, ECMP with weights, recursive, attached, drop, local, del', () => {
  const vm = setup();
  transcript(vm, `
vpp# ip route add 48.0.0.0/8 via 10.10.2.2 pg1
vpp# show ip fib 48.0.0.1
${HEADER0}
48.0.0.0/8 fib:0 index:13 locks:2
  CLI refs:1 src-flags:added,contributing,active,
    path-list:[5] locks:1 flags:shared, uPRF-list:5 len:1 itfs:[2, ]
      path:[5] pl-index:5 ip4 weight=1 pref=0 attached-nexthop:  oper-flags:resolved,
        10.10.2.2 pg1
      [@0]: arp-ipv4: via 10.10.2.2 pg1

 forwarding:   unicast-ip4-chain
  [@0]: dpo-load-balance: [proto:ip4 index:5 buckets:1 uRPF:5 to:[0:0]]
    [0] [@3]: arp-ipv4: via 10.10.2.2 pg1
vpp# set ip neighbor pg1 10.10.2.2 02:00:00:00:00:02 static
vpp# show ip fib 48.0.0.0/8
ipv4-VRF:0, fib_index:0, flow hash:[src dst sport dport proto flowlabel ] epoch:0 flags:none locks:[adjacency:1, default-route:1, ]
48.0.0.0/8 fib:0 index:13 locks:2
  CLI refs:1 src-flags:added,contributing,active,
    path-list:[5] locks:2 flags:shared, uPRF-list:5 len:1 itfs:[2, ]
      path:[5] pl-index:5 ip4 weight=1 pref=0 attached-nexthop:  oper-flags:resolved,
        10.10.2.2 pg1
      [@0]: ipv4 via 10.10.2.2 pg1: mtu:9000 next:2 flags:[] 02000000000202fe000000010800

 forwarding:   unicast-ip4-chain
  [@0]: dpo-load-balance: [proto:ip4 index:5 buckets:1 uRPF:5 to:[0:0]]
    [0] [@4]: ipv4 via 10.10.2.2 pg1: mtu:9000 next:2 flags:[] 02000000000202fe000000010800
vpp# ip route add 30.0.0.0/8 via 10.10.2.3 pg1 via 10.10.2.4 pg1 weight 3
vpp# show ip fib table 0 30.1.1.1/32
ipv4-VRF:0, fib_index:0, flow hash:[src dst sport dport proto flowlabel ] epoch:0 flags:none locks:[adjacency:1, default-route:1, ]
30.0.0.0/8 fib:0 index:15 locks:2
  CLI refs:1 src-flags:added,contributing,active,
    path-list:[6] locks:1 flags:shared, uPRF-list:6 len:2 itfs:[2, ]
      path:[6] pl-index:6 ip4 weight=1 pref=0 attached-nexthop:  oper-flags:resolved,
        10.10.2.3 pg1
      [@0]: arp-ipv4: via 10.10.2.3 pg1
      path:[6] pl-index:6 ip4 weight=3 pref=0 attached-nexthop:  oper-flags:resolved,
        10.10.2.4 pg1
      [@0]: arp-ipv4: via 10.10.2.4 pg1

 forwarding:   unicast-ip4-chain
  [@0]: dpo-load-balance: [proto:ip4 index:6 buckets:4 uRPF:6 to:[0:0]]
    [0] [@3]: arp-ipv4: via 10.10.2.3 pg1
    [1] [@3]: arp-ipv4: via 10.10.2.4 pg1
    [2] [@3]: arp-ipv4: via 10.10.2.4 pg1
    [3] [@3]: arp-ipv4: via 10.10.2.4 pg1
vpp# ip route del 30.0.0.0/8 via 10.10.2.4 pg1
vpp# ip route add 30.0.0.0/8 via 10.10.2.5 pg1
vpp# show ip fib 30.0.0.0/8
ipv4-VRF:0, fib_index:0, flow hash:[src dst sport dport proto flowlabel ] epoch:0 flags:none locks:[adjacency:1, default-route:1, ]
30.0.0.0/8 fib:0 index:15 locks:2
  CLI refs:1 src-flags:added,contributing,active,
    path-list:[6] locks:1 flags:shared, uPRF-list:6 len:2 itfs:[2, ]
      path:[6] pl-index:6 ip4 weight=1 pref=0 attached-nexthop:  oper-flags:resolved,
        10.10.2.3 pg1
      [@0]: arp-ipv4: via 10.10.2.3 pg1
      path:[6] pl-index:6 ip4 weight=1 pref=0 attached-nexthop:  oper-flags:resolved,
        10.10.2.5 pg1
      [@0]: arp-ipv4: via 10.10.2.5 pg1

 forwarding:   unicast-ip4-chain
  [@0]: dpo-load-balance: [proto:ip4 index:6 buckets:2 uRPF:6 to:[0:0]]
    [0] [@3]: arp-ipv4: via 10.10.2.3 pg1
    [1] [@3]: arp-ipv4: via 10.10.2.5 pg1
vpp# ip route 31.0.0.0/8 via 10.10.2.2
vpp# show ip fib 31.0.0.0/8
ipv4-VRF:0, fib_index:0, flow hash:[src dst sport dport proto flowlabel ] epoch:0 flags:none locks:[adjacency:1, default-route:1, ]
31.0.0.0/8 fib:0 index:16 locks:2
  CLI refs:1 src-flags:added,contributing,active,
    path-list:[7] locks:1 flags:shared, uPRF-list:7 len:1 itfs:[]
      path:[7] pl-index:7 ip4 weight=1 pref=0 recursive:  oper-flags:resolved,
        via 10.10.2.2 in fib:0 via-fib:14 via-dpo:[dpo-load-balance:5]

 forwarding:   unicast-ip4-chain
  [@0]: dpo-load-balance: [proto:ip4 index:7 buckets:1 uRPF:7 to:[0:0]]
    [0] [@4]: ipv4 via 10.10.2.2 pg1: mtu:9000 next:2 flags:[] 02000000000202fe000000010800
vpp# ip route add 32.0.0.0/8 via pg0
vpp# ip route add 33.0.0.0/8 via drop
vpp# ip route add 34.0.0.1/32 via local
vpp# show ip fib 32.0.0.0/7
ipv4-VRF:0, fib_index:0, flow hash:[src dst sport dport proto flowlabel ] epoch:0 flags:none locks:[adjacency:1, default-route:1, ]
0.0.0.0/0 fib:0 index:0 locks:2
  default-route refs:1 entry-flags:drop, src-flags:added,contributing,active,
    path-list:[0] locks:11 flags:drop, uPRF-list:0 len:1 itfs:[]
      path:[0] pl-index:0 ip4 weight=1 pref=0 special:  cfg-flags:drop,
        [@0]: dpo-drop ip4

 forwarding:   unicast-ip4-chain
  [@0]: dpo-load-balance: [proto:ip4 index:0 buckets:1 uRPF:0 to:[0:0]]
    [0] [@0]: dpo-drop ip4
vpp# show ip fib 32.1.2.3
ipv4-VRF:0, fib_index:0, flow hash:[src dst sport dport proto flowlabel ] epoch:0 flags:none locks:[adjacency:1, default-route:1, ]
32.0.0.0/8 fib:0 index:17 locks:2
  CLI refs:1 entry-flags:attached, src-flags:added,contributing,active,
    path-list:[1] locks:2 flags:shared, uPRF-list:1 len:1 itfs:[1, ]
      path:[1] pl-index:1 ip4 weight=1 pref=0 attached:  oper-flags:resolved,
        pg0
      [@0]: ipv4-glean: [src:10.10.1.0/24] pg0: mtu:9000 next:1 flags:[] ffffffffffff02fe000000000806

 forwarding:   unicast-ip4-chain
  [@0]: dpo-load-balance: [proto:ip4 index:1 buckets:1 uRPF:1 to:[0:0]]
    [0] [@2]: ipv4-glean: [src:10.10.1.0/24] pg0: mtu:9000 next:1 flags:[] ffffffffffff02fe000000000806
vpp# show ip fib 33.1.2.3
ipv4-VRF:0, fib_index:0, flow hash:[src dst sport dport proto flowlabel ] epoch:0 flags:none locks:[adjacency:1, default-route:1, ]
33.0.0.0/8 fib:0 index:18 locks:2
  CLI refs:1 entry-flags:drop, src-flags:added,contributing,active,
    path-list:[0] locks:11 flags:drop, uPRF-list:0 len:1 itfs:[]
      path:[0] pl-index:0 ip4 weight=1 pref=0 special:  cfg-flags:drop,
        [@0]: dpo-drop ip4

 forwarding:   unicast-ip4-chain
  [@0]: dpo-load-balance: [proto:ip4 index:0 buckets:1 uRPF:0 to:[0:0]]
    [0] [@0]: dpo-drop ip4
vpp# show ip fib 34.0.0.1
ipv4-VRF:0, fib_index:0, flow hash:[src dst sport dport proto flowlabel ] epoch:0 flags:none locks:[adjacency:1, default-route:1, ]
34.0.0.1/32 fib:0 index:19 locks:2
  CLI refs:1 entry-flags:local, src-flags:added,contributing,active,
    path-list:[8] locks:1 flags:local, uPRF-list:8 len:1 itfs:[]
      path:[8] pl-index:8 ip4 weight=1 pref=0 receive:  oper-flags:resolved,
        [@0]: dpo-receive: 34.0.0.1

 forwarding:   unicast-ip4-chain
  [@0]: dpo-load-balance: [proto:ip4 index:8 buckets:1 uRPF:8 to:[0:0]]
    [0] [@1]: dpo-receive: 34.0.0.1
vpp# ip route del 48.0.0.0/8
vpp# ip route del 31.0.0.0/8
vpp# ip route del 32.0.0.0/8
vpp# ip route del 33.0.0.0/8
vpp# ip route del 34.0.0.1/32
vpp# ip route del 30.0.0.0/8
vpp# show ip fib summary
ipv4-VRF:0, fib_index:0, flow hash:[src dst sport dport proto flowlabel ] epoch:0 flags:none locks:[adjacency:1, default-route:1, ]
    Prefix length         Count     
                   0               1
                   4               2
                  24               2
                  32               9
`);
});

test('ip table: add, the old form, del; VRF routes stay in their table; a bound table cannot go', () => {
  const vm = setup();
  const pg2 = vm.vnet.interfaces.expect('pg2');
  transcript(vm, `
vpp# ip table add 5
vpp# ip table 6
vpp# ip table add 5
vpp# show ip fib table 5
ipv4-VRF:5, fib_index:1, flow hash:[src dst sport dport proto flowlabel ] epoch:0 flags:none locks:[CLI:1, ]
${DROP_ENTRY('0.0.0.0/0')}
${DROP_ENTRY('0.0.0.0/32')}
${DROP_ENTRY('224.0.0.0/4')}
${DROP_ENTRY('240.0.0.0/4')}
${DROP_ENTRY('255.255.255.255/32')}
vpp# ip table del 6
vpp# show ip fib table 6
show ip fib: table 6 does not exist (create it with 'ip table add 6')
vpp# ip route add 48.0.0.0/8 table 5 via 10.10.2.2 pg1
vpp# show ip fib table 5 summary
ipv4-VRF:5, fib_index:1, flow hash:[src dst sport dport proto flowlabel ] epoch:0 flags:none locks:[CLI:1, ]
    Prefix length         Count     
                   0               1
                   4               2
                   8               1
                  32               2
vpp# show ip fib 48.0.0.1
${HEADER0}
0.0.0.0/0 fib:0 index:0 locks:2
  default-route refs:1 entry-flags:drop, src-flags:added,contributing,active,
    path-list:[0] locks:15 flags:drop, uPRF-list:0 len:1 itfs:[]
      path:[0] pl-index:0 ip4 weight=1 pref=0 special:  cfg-flags:drop,
        [@0]: dpo-drop ip4

 forwarding:   unicast-ip4-chain
  [@0]: dpo-load-balance: [proto:ip4 index:0 buckets:1 uRPF:0 to:[0:0]]
    [0] [@0]: dpo-drop ip4
ipv4-VRF:5, fib_index:1, flow hash:[src dst sport dport proto flowlabel ] epoch:0 flags:none locks:[CLI:1, ]
48.0.0.0/8 fib:1 index:22 locks:2
  CLI refs:1 src-flags:added,contributing,active,
    path-list:[5] locks:1 flags:shared, uPRF-list:5 len:1 itfs:[2, ]
      path:[5] pl-index:5 ip4 weight=1 pref=0 attached-nexthop:  oper-flags:resolved,
        10.10.2.2 pg1
      [@0]: arp-ipv4: via 10.10.2.2 pg1

 forwarding:   unicast-ip4-chain
  [@0]: dpo-load-balance: [proto:ip4 index:5 buckets:1 uRPF:5 to:[0:0]]
    [0] [@3]: arp-ipv4: via 10.10.2.2 pg1
`);
  vm.vnet.setIp4Table(pg2, 5);
  transcript(vm, `
vpp# ip table del 5
ip table: table 5 is in use by interface pg2
vpp# ip table del 0
ip table: table 0 is the default table and cannot be deleted
vpp# ip table del 77
ip table: table 77 does not exist
vpp# ip table add five
ip table: expected a number in 0..4294967295 for table id, got 'five'
vpp# ip table add 5 6
ip table: unexpected argument '6'
vpp# show ip fib table 5 summary
ipv4-VRF:5, fib_index:1, flow hash:[src dst sport dport proto flowlabel ] epoch:0 flags:none locks:[CLI:1, interface:1, ]
    Prefix length         Count     
                   0               1
                   4               2
                   8               1
                  32               2
`);
  vm.vnet.setIp4Table(pg2, 0);
  transcript(vm, `
vpp# ip table del 5
vpp# show ip fib table 5
show ip fib: table 5 does not exist (create it with 'ip table add 5')
`);
});

test('bad ip route lines name the token and change nothing', () => {
  const vm = setup();
  run(vm, 'ip route add 48.0.0.0/8 via 10.10.2.2 pg1');
  const before = run(vm, 'show ip fib');
  transcript(vm, `
vpp# ip route add 48.0.0.0/33 via 10.10.2.2 pg1
ip route: expected an IPv4 prefix (a.b.c.d/len) for destination, got '48.0.0.0/33'
vpp# ip route add
ip route: expected an IPv4 prefix (a.b.c.d/len) for destination, got end of input
vpp# ip route add 49.0.0.0/8 via 10.10.2.2 pg9
ip route: unknown interface 'pg9'
vpp# ip route add 49.0.0.0/8 via pg9
ip route: unknown interface 'pg9'
vpp# ip route add 49.0.0.0/8
ip route: missing path: expected 'via <next-hop> [<interface>]', 'via <interface>', 'via drop' or 'via local'
vpp# ip route add 49.0.0.0/8 via
ip route: expected a next hop, an interface, 'drop' or 'local' after 'via', got end of input
vpp# ip route add 49.0.0.0/8 weight 2 via 10.10.2.2 pg1
ip route: 'weight' must follow a 'via' path
vpp# ip route add 49.0.0.0/8 via 10.10.2.2 pg1 weight 0
ip route: expected a number in 1..255 for weight, got '0'
vpp# ip route add 49.0.0.0/8 table 9 via 10.10.2.2 pg1
ip route: table 9 does not exist (create it with 'ip table add 9')
vpp# ip route add 49.0.0.0/8 via 10.10.2.2 pg1 bogus
ip route: unknown input \`bogus'
vpp# ip route del 50.0.0.0/8
ip route: no cli route 50.0.0.0/8 in table 0
vpp# ip route del 48.0.0.0/8 via 10.10.2.9 pg1
ip route: route 48.0.0.0/8 in table 0 has no such path
vpp# show ip fib 49.0.0.0/8 nonsense
show ip fib: unknown input \`nonsense'
`);
  assert.equal(run(vm, 'show ip fib'), before);
});

test('neighbors: set ip neighbor, ip neighbor, show ip neighbors, del, errors', () => {
  const vm = setup();
  const before = run(vm, 'show ip fib');
  transcript(vm, `
vpp# show ip neighbors
     Age                       IP                    Flags      Ethernet              Interface       
vpp# set ip neighbor pg1 10.10.2.2 02:00:00:00:00:02 static
vpp# ip neighbor pg1 10.10.2.9 02:00:00:00:00:09
vpp# set ip neighbor pg0 10.10.1.7 02:00:00:00:01:07
vpp# show ip neighbors
     Age                       IP                    Flags      Ethernet              Interface       
      ?.????                10.10.1.7                  D    02:00:00:00:01:07 pg0
      ?.????                10.10.2.2                  S    02:00:00:00:00:02 pg1
      ?.????                10.10.2.9                  D    02:00:00:00:00:09 pg1
vpp# sh ip neighbor pg1
     Age                       IP                    Flags      Ethernet              Interface       
      ?.????                10.10.2.2                  S    02:00:00:00:00:02 pg1
      ?.????                10.10.2.9                  D    02:00:00:00:00:09 pg1
vpp# show ip fib 10.10.2.9
ipv4-VRF:0, fib_index:0, flow hash:[src dst sport dport proto flowlabel ] epoch:0 flags:none locks:[adjacency:3, default-route:1, ]
10.10.2.9/32 fib:0 index:14 locks:2
  adjacency refs:1 entry-flags:attached, src-flags:added,contributing,active,
    path-list:[6] locks:1 flags:shared, uPRF-list:6 len:1 itfs:[2, ]
      path:[6] pl-index:6 ip4 weight=1 pref=0 attached-nexthop:  oper-flags:resolved,
        10.10.2.9 pg1
      [@0]: ipv4 via 10.10.2.9 pg1: mtu:9000 next:2 flags:[] 02000000000902fe000000010800

 forwarding:   unicast-ip4-chain
  [@0]: dpo-load-balance: [proto:ip4 index:6 buckets:1 uRPF:6 to:[0:0]]
    [0] [@4]: ipv4 via 10.10.2.9 pg1: mtu:9000 next:2 flags:[] 02000000000902fe000000010800
vpp# set ip neighbor del pg1 10.10.2.9
vpp# ip neighbor del pg0 10.10.1.7 02:00:00:00:01:07
vpp# show ip neighbors
     Age                       IP                    Flags      Ethernet              Interface       
      ?.????                10.10.2.2                  S    02:00:00:00:00:02 pg1
vpp# set ip neighbor del pg1 10.10.2.2
vpp# set ip neighbor del pg1 10.10.2.2
set ip neighbor: no neighbor 10.10.2.2 on pg1
vpp# set ip neighbor pg7 10.10.2.2 02:00:00:00:00:02
set ip neighbor: unknown interface 'pg7'
vpp# set ip neighbor pg1 10.10.2 02:00:00:00:00:02
set ip neighbor: expected an IPv4 address for neighbor address, got '10.10.2'
vpp# set ip neighbor pg1 10.10.2.2 02:00:00:00:00
set ip neighbor: expected a MAC address for neighbor MAC address, got '02:00:00:00:00'
vpp# set ip neighbor pg1 10.10.2.2 02:00:00:00:00:02 permanent
set ip neighbor: unknown input \`permanent'
vpp# show ip neighbors pg7
show ip neighbors: unknown interface 'pg7'
vpp# show ip neighbors
     Age                       IP                    Flags      Ethernet              Interface       
`);
  assert.equal(run(vm, 'show ip fib'), before, 'neighbors gone: their /32s are gone');
});

test('--json: show ip fib and show ip neighbors give the same entries as data', () => {
  const vm = setup();
  run(vm, 'ip route add 30.0.0.0/8 via 10.10.2.3 pg1 via 10.10.2.4 pg1');
  run(vm, 'set ip neighbor pg1 10.10.2.3 02:00:00:00:00:03 static');
  const fib = JSON.parse(run(vm, 'show ip fib 30.0.0.0/8 --json')) as {
    tableId: number;
    entries: { prefix: string; sources: { source: string; paths: { kind: string; nextHop: string; interface: string }[] }[]; loadBalance: { buckets: { kind: string; text: string }[] } }[];
  }[];
  assert.equal(fib.length, 1);
  assert.equal(fib[0].tableId, 0);
  const entry = fib[0].entries[0];
  assert.equal(entry.prefix, '30.0.0.0/8');
  assert.deepEqual(entry.sources[0].paths.map((p) => `${p.kind} ${p.nextHop} ${p.interface}`), ['neighbor 10.10.2.3 pg1', 'neighbor 10.10.2.4 pg1']);
  assert.deepEqual(entry.loadBalance.buckets.map((b) => b.kind), ['rewrite', 'incomplete']);
  assert.equal(entry.loadBalance.buckets[1].text, 'arp-ipv4: via 10.10.2.4 pg1');
  const all = JSON.parse(run(vm, '--json show ip fib')) as { entries: { prefix: string }[] }[];
  assert.deepEqual(all[0].entries.map((e) => e.prefix), vm.vnet.fib.entries(0).map((e) => e.address === 0 && e.length === 0 ? '0.0.0.0/0' : `${[e.address >>> 24, (e.address >>> 16) & 255, (e.address >>> 8) & 255, e.address & 255].join('.')}/${e.length}`));
  const neighbors = JSON.parse(run(vm, 'show ip neighbors --json')) as { ip: string; flags: string; ethernet: string; interface: string; age: number }[];
  assert.equal(neighbors.length, 1);
  assert.deepEqual({ ...neighbors[0], age: 0 }, { age: 0, ip: '10.10.2.3', flags: 'S', ethernet: '02:00:00:00:00:03', interface: 'pg1' });
});
