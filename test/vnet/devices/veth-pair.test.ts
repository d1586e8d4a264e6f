// veth pairs (no root needed): an in-engine cable. A frame sent on one end comes in on the
// other on the next dispatch turn; two VRFs of one engine joined by a pair forward like two
// routers on a wire (ARP across the cable, TTL down by one per hop), verified by pcap:
// packets in from a pcap on pg0 in VRF 0, out of pg1 in VRF 1 captured to a pcap.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, type Engine } from '../../../src/index.ts';
import { PcapWriter, readPcapFile } from '../../../src/vlib/pcap.ts';
import { InterfaceCounter } from '../../../src/vnet/interface.ts';
import { ip4HeaderChecksumIsValid } from '../../../src/wire/ip4.ts';
import { ethernet, ipv4, udp } from '../../interop/frames.ts';

function topology(vm: Engine): void {
  for (const line of [
    'create packet-generator interface pg0',
    'create packet-generator interface pg1',
    'create veth-pair left right',
    'ip table add 1',
    'set interface ip table right 1',
    'set interface ip table pg1 1',
    'set interface state pg0 up',
    'set interface state pg1 up',
    'set interface state left up',
    'set interface state right up',
    'set interface ip address pg0 10.200.1.1/24',
    'set interface ip address left 10.200.2.1/24',
    'set interface ip address right 10.200.2.2/24',
    'set interface ip address pg1 10.200.3.1/24',
    'ip route add 10.200.3.0/24 via 10.200.2.2 left',
    'ip route add 10.200.1.0/24 table 1 via 10.200.2.1 right',
    'set ip neighbor pg1 10.200.3.2 02:00:00:00:03:02 static',
  ]) vm.cli(line);
}

test('veth pair: a frame sent on one end is received on the other in the next turn', () => {
  const vm = createEngine();
  vm.cli('create veth-pair va vb');
  vm.cli('set interface state va up');
  vm.cli('set interface state vb up');
  const ifs = vm.vnet.interfaces;
  const a = ifs.find('va');
  const b = ifs.find('vb');
  const frame = ethernet('ff:ff:ff:ff:ff:ff', ifs.macText(a), 0x88b5, new Uint8Array(50));
  const bi = vm.pool.fromBytes(frame);
  vm.enqueue('va-tx', [bi]);
  vm.runOnce(); // va-tx runs: the frame is on vb's ring
  assert.equal(ifs.counter(b, InterfaceCounter.RX_PACKETS), 0);
  vm.runOnce(); // veth-input delivers it
  assert.equal(ifs.counter(b, InterfaceCounter.RX_PACKETS), 1);
  assert.equal(ifs.counter(b, InterfaceCounter.RX_BYTES), frame.length);
  vm.runUntilIdle();
  assert.equal(ifs.counter(a, InterfaceCounter.RX_PACKETS), 0, 'nothing comes back on the sending end');
  assert.match(vm.cli('show hardware-interfaces va'), /peer vb/);
  vm.cli('delete veth-pair va');
  assert.equal(ifs.find('va'), -1);
  assert.equal(ifs.find('vb'), -1);
});

test('veth pair between two VRFs: forwarding across, ARP over the cable, verified by pcap', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vecnet-veth-'));
  try {
    const vm = createEngine();
    topology(vm);
    const ifs = vm.vnet.interfaces;
    const input = join(dir, 'in.pcap');
    const output = join(dir, 'out.pcap');
    const writer = PcapWriter.open(input);
    const count = 20;
    for (let i = 0; i < count; i++) {
      const frame = ethernet(ifs.macText(ifs.find('pg0')), '02:00:00:00:01:02', 0x0800,
        ipv4('10.200.1.2', '10.200.3.2', 17, udp(1000 + i, 2000, new Uint8Array(18)), { ttl: 64 }));
      writer.write(frame, 0, frame.length);
    }
    writer.close();
    vm.cli(`packet-generator capture pg1 pcap ${output}`);
    // The first packet finds left's next hop unresolved: ip4-arp asks across the cable and
    // the packet is dropped (as VPP does); the answer comes back over the cable.
    vm.cli(`packet-generator new pcap ${input} source pg0 name first limit 1`);
    vm.cli('packet-generator enable-stream first');
    vm.runUntilIdle();
    assert.match(vm.cli('show ip neighbors'), /10\.200\.2\.2/);
    vm.cli(`packet-generator new pcap ${input} source pg0 name rest`);
    vm.cli('packet-generator enable-stream rest');
    vm.runUntilIdle();
    vm.cli('packet-generator capture pg1 disable');
    const packets = readPcapFile(output).packets;
    assert.equal(packets.length, count);
    for (const p of packets) {
      const d = p.data;
      assert.deepEqual([...d.subarray(0, 6)], [2, 0, 0, 0, 3, 2], 'to the static neighbor');
      assert.equal(Buffer.from(d.subarray(6, 12)).toString('hex'), ifs.macText(ifs.find('pg1')).replaceAll(':', ''));
      assert.equal(d[14 + 8], 62, 'two hops: TTL 64 → 62');
      assert.ok(ip4HeaderChecksumIsValid(d, 14));
    }
    assert.ok(ifs.counter(ifs.find('right'), InterfaceCounter.RX_PACKETS) >= count);
    assert.ok(ifs.counter(ifs.find('left'), InterfaceCounter.TX_PACKETS) >= count);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
