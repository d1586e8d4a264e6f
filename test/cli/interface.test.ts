// Interface CLI transcripts: create/delete loopbacks, state, addresses, tables, MAC, MTU,
// and the show commands in VPP's layouts; bad input names the token and changes nothing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine } from '../../src/index.ts';
import { run, runTranscript } from './vpp-transcript.ts';

test('interface CLI: configure and show, as a VPP user types it', () => {
  const vm = createEngine();
  runTranscript(vm, `
vpp# create packet-generator interface pg0
vpp# create packet-generator interface pg1
vpp# create loopback interface
loop0
vpp# show interface
              Name               Idx    State  MTU (L3/IP4/IP6/MPLS)     Counter          Count
local0                            0     down          0/0/0/0
loop0                             3     down         9000/0/0/0
pg0                               1     down         9000/0/0/0
pg1                               2     down         9000/0/0/0
vpp# set interface state pg0 up
vpp# set interface state pg1 up
vpp# set interface state loop0 up
vpp# set interface ip address pg0 10.10.1.1/24
vpp# set interface ip address pg0 10.10.1.77/24
vpp# set interface ip address pg1 10.10.2.1/24
vpp# ip table add 7
vpp# set interface ip table loop0 7
vpp# set interface ip address loop0 10.10.1.1/24
vpp# show interface address
local0 (dn):
loop0 (up):
  L3 10.10.1.1/24 ip4 table-id 7 fib-idx 1
pg0 (up):
  L3 10.10.1.1/24
  L3 10.10.1.77/24
pg1 (up):
  L3 10.10.2.1/24
vpp# show int addr pg1
pg1 (up):
  L3 10.10.2.1/24
vpp# set interface mac address pg1 02:00:00:00:01:01
vpp# set interface mtu 1500 pg1
vpp# set interface mtu ip4 1400 pg1
vpp# set interface mtu packet 9000 pg0
vpp# show interface
              Name               Idx    State  MTU (L3/IP4/IP6/MPLS)     Counter          Count
local0                            0     down          0/0/0/0
loop0                             3      up          9000/0/0/0
pg0                               1      up          9000/0/0/0
pg1                               2      up        1500/1400/0/0
vpp# show hardware-interfaces
              Name                Idx   Link  Hardware
local0                             0    down  local0
  Link speed: unknown
  local
loop0                              3     up   loop0
  Link speed: unknown
  Ethernet address de:ad:00:00:00:00
pg0                                1     up   pg0
  Link speed: unknown
  Ethernet address 02:fe:00:00:00:00
pg1                                2     up   pg1
  Link speed: unknown
  Ethernet address 02:00:00:00:01:01
vpp# show hardware-interfaces brief pg1
              Name                Idx   Link  Hardware
pg1                                2     up   pg1
vpp# set interface ip address del pg0 10.10.1.77/24
vpp# show int addr pg0
pg0 (up):
  L3 10.10.1.1/24
vpp# set interface ip address del pg0 all
vpp# show int addr pg0
pg0 (up):
vpp# delete loopback interface intfc loop0
vpp# show interface
              Name               Idx    State  MTU (L3/IP4/IP6/MPLS)     Counter          Count
local0                            0     down          0/0/0/0
pg0                               1      up          9000/0/0/0
pg1                               2      up        1500/1400/0/0
vpp# create loopback interface mac 02:00:00:00:aa:aa instance 3
loop3
vpp# show hardware-interfaces loop3
              Name                Idx   Link  Hardware
loop3                              4    down  loop3
  Link speed: unknown
  Ethernet address 02:00:00:00:aa:aa
`);
  // The MTU in effect for IPv4 is the smaller of the two (what ip4-rewrite checks).
  assert.equal(vm.vnet.interfaces.mtu[vm.vnet.interfaces.find('pg1')], 1400);
});

test('interface CLI: counters show when non-zero, in VPP columns, and clear', () => {
  const vm = createEngine();
  for (const line of [
    'create packet-generator interface pg0',
    'create packet-generator interface pg1',
    'set interface state pg0 up',
    'set interface state pg1 up',
    'set interface ip address pg0 10.10.1.1/24',
    'set interface ip address pg1 10.10.2.1/24',
    'set ip neighbor pg1 10.10.2.2 02:00:00:00:00:02 static',
    'ip route add 48.0.0.0/8 via 10.10.2.2 pg1',
    'packet-generator new { name s limit 30 size 64-64 data { IP4: 02:00:00:00:00:10 -> 02:fe:00:00:00:00 UDP: 10.10.1.2 -> 48.0.0.1 UDP: 1234 -> 5678 incrementing 0 } }',
    'packet-generator new { name x limit 2 size 64-64 data { IP4: 02:00:00:00:00:10 -> 02:fe:00:00:00:99 UDP: 10.10.1.2 -> 48.0.0.1 UDP: 1234 -> 5678 incrementing 0 } }',
    'packet-generator enable',
  ]) vm.cli(line);
  vm.runUntilIdle();
  runTranscript(vm, `
vpp# show interface
              Name               Idx    State  MTU (L3/IP4/IP6/MPLS)     Counter          Count
local0                            0     down          0/0/0/0
pg0                               1      up          9000/0/0/0     rx packets                    32
                                                                    rx bytes                    2048
                                                                    drops                          2
                                                                    ip4                           30
pg1                               2      up          9000/0/0/0     tx packets                    30
                                                                    tx bytes                    1920
vpp# show interface pg1
              Name               Idx    State  MTU (L3/IP4/IP6/MPLS)     Counter          Count
pg1                               2      up          9000/0/0/0     tx packets                    30
                                                                    tx bytes                    1920
vpp# clear interfaces
vpp# show interface pg0
              Name               Idx    State  MTU (L3/IP4/IP6/MPLS)     Counter          Count
pg0                               1      up          9000/0/0/0
`);
  const json = JSON.parse(vm.cli('show interface pg1 --json'));
  assert.deepEqual(json, [{ name: 'pg1', index: 2, state: 'up', mtu: '9000/0/0/0', counters: {} }]);
});

test('interface CLI: bad input names the token and the expected form, and changes nothing', () => {
  const vm = createEngine();
  for (const line of [
    'create packet-generator interface pg0',
    'create packet-generator interface pg1',
    'create loopback interface',
    'set interface state pg0 up',
    'set interface ip address pg0 10.10.1.1/24',
  ]) vm.cli(line);
  const snapshot = (): string[] => ['show interface', 'show interface address', 'show hardware-interfaces', 'show ip fib'].map((c) => run(vm, c));
  const before = snapshot();
  runTranscript(vm, `
vpp# set interface state pg9 up
set interface state: unknown interface 'pg9'
vpp# set interface state pg0 sideways
set interface state: expected up|down for interface state, got 'sideways'
vpp# set interface state
set interface state: expected a word for interface, got end of input
vpp# set interface state pg0 up now
set interface state: unexpected argument 'now'
vpp# set interface state local0 up
set interface state: local0 cannot be brought up
vpp# set interface ip address pg1 10.10.1.5/16
set interface ip address: address 10.10.1.5/16 overlaps 10.10.1.1/24 on pg0
vpp# set interface ip address pg1 10.10.2/24
set interface ip address: expected an IPv4 prefix (a.b.c.d/len) for interface address, got '10.10.2/24'
vpp# set interface ip address del pg1 10.10.9.1/24
set interface ip address: 10.10.9.1/24 is not an address of pg1
vpp# set interface ip table pg0 7
set interface ip table: table 7 does not exist (create it with 'ip table add 7')
vpp# set interface mac address pg1 02:00:00:00:01
set interface mac address: expected a MAC address for mac address, got '02:00:00:00:01'
vpp# set interface mtu 40 pg1
set interface mtu: expected a number in 64..65535 for mtu, got '40'
vpp# set interface mtu 1500 pg7
set interface mtu: unknown interface 'pg7'
vpp# set interface mtu mpls 1500 pg1
set interface mtu: expected a number in 64..65535 for mtu, got 'mpls'
vpp# delete loopback interface intfc pg0
delete loopback interface: pg0 is not a loopback interface
vpp# delete loopback interface loop0
delete loopback interface: expected 'intfc', got 'loop0'
vpp# create loopback interface mac zz
create loopback interface: expected a MAC address for mac, got 'zz'
vpp# create loopback interface instance 0
create loopback interface: loopback instance 0 is in use
vpp# show interface sideways
show interface: unknown interface 'sideways'
vpp# show hardware-interfaces pg0 pg9
show hardware-interfaces: unknown interface 'pg9'
vpp# clear interfaces now
clear interfaces: unexpected argument 'now'
`);
  assert.deepEqual(snapshot(), before);
});
