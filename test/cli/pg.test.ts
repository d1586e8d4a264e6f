// Packet generator CLI transcripts: interfaces, streams from pcap and from the stream syntax,
// enable/disable/delete, capture, show packet-generator; bad input names the token and
// changes nothing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine } from '../../src/index.ts';
import { readPcapFile, writePcapFile } from '../../src/vlib/pcap.ts';
import { pgFrames } from '../nodes/l2-helpers.ts';
import { run, runTranscript } from './vpp-transcript.ts';

test('pg CLI: streams from the stream syntax, shown, enabled, disabled, deleted', () => {
  const vm = createEngine();
  runTranscript(vm, `
vpp# show packet-generator
no streams currently defined
vpp# create packet-generator interface pg0
vpp# create packet-generator interface pg1
vpp# packet-generator new { name ip limit 10 size 64-72 rate 1e6 node ip4-input maxframe 32 data { UDP: 10.0.0.1 - 10.0.0.9 -> 10.0.0.2 UDP: 1 -> 2 incrementing 4 } }
vpp# packet-generator new name eth interface pg1 data { IP4: 02:00:00:00:00:10 -> 02:fe:00:00:00:00 UDP: 10.0.0.1 -> 10.0.0.2 UDP: 1 -> 2 incrementing 4 }
vpp# show packet-generator
Name               Enabled        Count     Parameters
ip                   No             0       limit 10, rate 1.00e6 pps, size 64-72, buffer-size 2048, worker 0,
eth                  No             0       limit 0, rate 0.00e0 pps, size 46-46, buffer-size 2048, worker 0,
vpp# show packet-generator verbose
Name               Enabled        Count     Parameters
ip                   No             0       limit 10, rate 1.00e6 pps, size 64-72, buffer-size 2048, worker 0,
                                            node ip4-input, interface pg0, maxframe 32, 9 packet templates
eth                  No             0       limit 0, rate 0.00e0 pps, size 46-46, buffer-size 2048, worker 0,
                                            node ethernet-input, interface pg1, maxframe 256, 1 packet template
vpp# packet-generator enable-stream ip
vpp# show packet-generator
Name               Enabled        Count     Parameters
ip                   Yes            0       limit 10, rate 1.00e6 pps, size 64-72, buffer-size 2048, worker 0,
eth                  No             0       limit 0, rate 0.00e0 pps, size 46-46, buffer-size 2048, worker 0,
vpp# packet-generator disable
vpp# packet-generator delete eth
vpp# show packet-generator
Name               Enabled        Count     Parameters
ip                   No             0       limit 10, rate 1.00e6 pps, size 64-72, buffer-size 2048, worker 0,
`);
  const json = JSON.parse(vm.cli('show packet-generator --json'));
  assert.equal(json[0].name, 'ip');
  assert.equal(json[0].maxFrame, 32);
});

test('pg CLI: a pcap stream, captured on the other interface, counted by show packet-generator', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vecnet-pg-cli-'));
  try {
    const vm = createEngine();
    writePcapFile(join(dir, 'in.pcap'), pgFrames('IP4: 02:00:00:00:00:10 -> 02:00:00:00:00:02 UDP: 10.0.0.1 -> 10.0.0.2 - 10.0.0.4 UDP: 1 -> 2 incrementing 18').map((data) => ({ data })));
    runTranscript(vm, `
vpp# create packet-generator interface pg0
vpp# create packet-generator interface pg1
vpp# set interface state pg1 up
vpp# packet-generator new pcap ${dir}/in.pcap source pg0 name replay limit 7 maxframe 2 node pg1-output
vpp# packet-generator capture pg1 pcap ${dir}/out.pcap count 5
vpp# packet-generator enable
vpp# show packet-generator
Name               Enabled        Count     Parameters
replay               Yes            0       limit 7, rate 0.00e0 pps, size 60-60, buffer-size 2048, worker 0,
`);
    vm.runUntilIdle();
    runTranscript(vm, `
vpp# show packet-generator
Name               Enabled        Count     Parameters
replay               No             7       limit 7, rate 0.00e0 pps, size 60-60, buffer-size 2048, worker 0,
vpp# packet-generator capture pg1 disable
vpp# show interface pg1
              Name               Idx    State  MTU (L3/IP4/IP6/MPLS)     Counter          Count
pg1                               2      up          9000/0/0/0     tx packets                     7
                                                                    tx bytes                     420
`);
    const runtime = vm.cli('show runtime').split('\n').find((l) => l.startsWith('pg-input'))!;
    assert.match(runtime, /\s4\s+7\s+0\s+\S+\s+1\.75$/, 'maxframe 2: 7 packets in 4 calls');
    assert.equal(readPcapFile(join(dir, 'out.pcap')).packets.length, 5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pg CLI: bad input names the token and the expected form, and changes nothing', () => {
  const vm = createEngine();
  vm.cli('create packet-generator interface pg0');
  vm.cli('create packet-generator interface pg1');
  vm.cli('packet-generator new { name keep limit 1 data { UDP: 1.1.1.1 -> 2.2.2.2 UDP: 1 -> 2 } }');
  const snapshot = (): string[] => ['show packet-generator verbose', 'show interface', 'show vlib graph pg-input'].map((c) => run(vm, c));
  const before = snapshot();
  const data = 'data { UDP: 1.1.1.1 -> 2.2.2.2 UDP: 1 -> 2 }';
  runTranscript(vm, `
vpp# create packet-generator interface px
create packet-generator interface: expected pg<N> for interface name, got 'px'
vpp# create packet-generator interface pg1 mtu 5
create packet-generator interface: unknown input \`mtu 5'
vpp# packet-generator new { name z }
packet-generator new: no packet data given: add 'pcap <file>' or 'data { ... }'
vpp# packet-generator new { name z pcap /x ${data} }
packet-generator new: give either 'pcap <file>' or 'data { ... }', not both
vpp# packet-generator new { name z node nowhere ${data} }
packet-generator new: unknown node 'nowhere'
vpp# packet-generator new { name z size 10-20 ${data} }
packet-generator new: min-size 10 < total header size 28
vpp# packet-generator new { name z size big ${data} }
packet-generator new: expected <min>-<max> for size, got 'big'
vpp# packet-generator new { name z maxframe 300 ${data} }
packet-generator new: expected a number in 1..256 for maxframe, got '300'
vpp# packet-generator new { name z rate fast ${data} }
packet-generator new: expected packets per second for rate, got 'fast'
vpp# packet-generator new { name z source eth0 ${data} }
packet-generator new: expected pg<N> for source, got 'eth0'
vpp# packet-generator new { name z interface pg9 ${data} }
packet-generator new: unknown interface 'pg9'
vpp# packet-generator new { name z ${data} } extra
packet-generator new: unexpected argument 'extra'
vpp# packet-generator new { name z limit many ${data} }
packet-generator new: expected a number for limit, got 'many'
vpp# packet-generator new { name z data { UDP: 1.1.1.1 -> 2.2.2.2 UDP: 1 -> 70000 } }
packet-generator new: expected a number in 0..65535 for UDP destination port, got '70000'
vpp# packet-generator new { name keep pcap /no/such/file.pcap }
packet-generator new: cannot read pcap file /no/such/file.pcap: no such file
vpp# packet-generator enable-stream nope
packet-generator enable-stream: no stream named 'nope'
vpp# packet-generator delete
packet-generator delete: expected a word for stream name, got end of input
vpp# packet-generator capture pg1
packet-generator capture: expected 'pcap <filename>' (or 'disable')
vpp# packet-generator capture pg9 pcap /tmp/x.pcap
packet-generator capture: unknown interface 'pg9'
vpp# packet-generator capture pg1 disable count 3
packet-generator capture: 'disable' takes no pcap file or count
vpp# packet-generator capture pg1 pcap /tmp/x.pcap count 0
packet-generator capture: expected a number >= 1 for count, got '0'
vpp# show packet-generator everything
show packet-generator: unexpected argument 'everything'
`);
  assert.deepEqual(snapshot(), before);
  assert.equal(vm.vnet.pg.captureOf(vm.vnet.interfaces.find('pg1')), undefined, 'no capture was started');
});
