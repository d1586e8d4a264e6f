// The examples docs/plugins.md quotes that are not part of plugins/sample: a node that
// consumes packets handed to it for a UDP port (with a startup.conf section and init/exit
// hooks), and one that takes a new EtherType from ethernet-input. Written as a plugin
// author would, against the public entry point only, and run here on a whole engine.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createEngine, defineConfigSection, defineNode, definePlugin, indices, ip4Frame, loadPlugins, writePcapFile, type Engine } from '../../src/index.ts';

const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'vecnet-plugin-examples-'));
after(() => fs.rmSync(directory, { recursive: true, force: true }));

// #region docs:config-section
/** `udp-sink { port <n> }` in startup.conf: checked at start like vecnet's own sections. */
const UDP_SINK_SECTION = defineConfigSection({
  name: 'udp-sink',
  help: 'the udp-sink example plugin',
  items: {
    port: { kind: 'integer', min: 1, max: 65535, default: 9, help: 'UDP port whose datagrams are sunk' },
  },
});
// #endregion docs:config-section

// #region docs:consuming-node
const ERRORS = { sunk: 'datagrams sunk' } as const;
const error = indices(ERRORS);

/** Takes datagrams to one local UDP port off the graph: frees them and counts them. */
const udpSinkNode = defineNode({
  name: 'udp-sink',
  errors: ERRORS,
  process(ctx, buffers, n) {
    ctx.pool.free(buffers, 0, n); // every buffer is freed here, so none is handed on:
    ctx.errors[error.sunk] += n;
    return 0; // … the node returns 0, as a tx node does
  },
});
// #endregion docs:consuming-node

// #region docs:init-exit
/** The port each engine's udp-sink registered (a plugin keeps per-engine state off the engine). */
const sinkPorts = new WeakMap<Engine, number>();

const udpSink = definePlugin({
  name: 'udp-sink',
  description: 'Counts and frees UDP datagrams to one local port',
  config: UDP_SINK_SECTION,
  nodes: [udpSinkNode],
  init(vm, config) {
    // config.port is a number: its type comes from the section's declaration.
    vm.vnet.udpLocal.register(config.port, 'udp-sink'); // ip4-udp-lookup gains a next to udp-sink
    sinkPorts.set(vm, config.port);
  },
  exit(vm) {
    const port = sinkPorts.get(vm);
    if (port !== undefined) vm.vnet.udpLocal.unregister(port);
  },
});
// #endregion docs:init-exit

// #region docs:ethertype
/** LLDP (EtherType 0x88cc) frames, counted and freed; ethernet-input has stepped past the header. */
const lldpNode = defineNode({
  name: 'lldp-counter',
  errors: { seen: 'LLDP frames' },
  process(ctx, buffers, n) {
    ctx.pool.free(buffers, 0, n);
    ctx.errors[0] += n;
    return 0;
  },
});

const lldpCounter = definePlugin({
  name: 'lldp-counter',
  description: 'Counts LLDP frames',
  nodes: [lldpNode],
  init(vm) {
    vm.vnet.registerEthernetType(0x88cc, 'lldp-counter'); // ethernet-input: 0x88cc → lldp-counter
  },
});
// #endregion docs:ethertype

let streams = 0;
function play(vm: Engine, frames: Uint8Array[]): void {
  const file = path.join(directory, `in-${streams}.pcap`);
  writePcapFile(file, frames.map((data) => ({ data })));
  vm.cli(`packet-generator new pcap ${file} source pg0 name s${streams}`);
  vm.cli(`packet-generator enable-stream s${streams++}`);
  vm.runUntilIdle();
}

async function engine(plugins: Parameters<typeof loadPlugins>[1], sections: Parameters<typeof loadPlugins>[2] = {}): Promise<Engine> {
  const vm = await loadPlugins(createEngine({ buffers: 1024 }), plugins, sections);
  vm.cli('create packet-generator interface pg0');
  vm.cli('set interface state pg0 up');
  vm.cli('set interface ip address pg0 10.10.1.1/24');
  return vm;
}

test('udp-sink: its config section sets the port, init registers it, datagrams to it are sunk, exit gives it back', async () => {
  const vm = await engine([udpSink], { 'udp-sink': { port: 9000 } });
  play(vm, [ip4Frame({ dst: '10.10.1.1', dport: 9000 }), ip4Frame({ dst: '10.10.1.1', dport: 9000 }), ip4Frame({ dst: '10.10.1.1', dport: 9001 })]);
  assert.equal(vm.errorCounter('udp-sink', 'datagrams sunk'), 2);
  assert.equal(vm.pool.available, vm.pool.count, 'every buffer back in the pool');
  await udpSink.exit!(vm);
  play(vm, [ip4Frame({ dst: '10.10.1.1', dport: 9000 })]);
  assert.equal(vm.errorCounter('udp-sink', 'datagrams sunk'), 2, 'after exit the port is nobody\'s');
});

test('udp-sink without a config section takes the declared default port', async () => {
  const vm = await engine([udpSink]);
  play(vm, [ip4Frame({ dst: '10.10.1.1', dport: 9 })]);
  assert.equal(vm.errorCounter('udp-sink', 'datagrams sunk'), 1);
});

test('lldp-counter: a new EtherType on ethernet-input reaches the plugin node', async () => {
  const vm = await engine([lldpCounter]);
  const lldp = new Uint8Array(60);
  lldp.set([0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e, 0x02, 0x00, 0x00, 0x00, 0x00, 0x10, 0x88, 0xcc]);
  play(vm, [lldp, lldp, ip4Frame()]);
  assert.equal(vm.errorCounter('lldp-counter', 'LLDP frames'), 2);
});
