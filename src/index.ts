// vecnet's public entry point and composition root: `createEngine()` builds an engine
// with the vnet layer, every built-in node and feature arc, and returns it ready for
// `vm.cli(…)` and `vm.start()`. Plugins import the API they need from here.

import { Engine, type EngineOptions } from './vlib/engine.ts';
import { attachVnet, type Vnet } from './vnet/vnet.ts';
import { VNET_ARCS, VNET_NODES, interfaceOutputTemplate } from '../nodes/index.ts';
import { registerHostStack } from './host-stack.ts';

export { Engine, type EngineOptions } from './vlib/engine.ts';
export { defineNode, indices, type NodeDefinition, type ProcessFunction, type TraceFunction } from './vlib/node.ts';
export type { NodeContext } from './vlib/node-runtime.ts';
export { BufferFlag, HEADROOM, NONE, OPAQUE_WORDS, type BufferPool } from './vlib/buffer-pool.ts';
export { FRAME_SIZE } from './vlib/frame.ts';
export { CliError, CliInput, type CliCommand, type CliOutput } from './vlib/cli.ts';
export type { Vnet } from './vnet/vnet.ts';
export { definePlugin, type PluginDefinition, type NextArcDefinition } from './vlib/plugin.ts';
export type { NodeType, ProcessNodeFunction } from './vlib/node.ts';
export type { NodeRuntime } from './vlib/node-runtime.ts';
export type { FeatureArcDefinition, FeatureDefinition } from './vlib/feature-arc.ts';
export { defineConfigSection, type ConfigSectionSpec, type ConfigValues } from './vlib/startup-conf.ts';
export { readPcap, readPcapFile, writePcapFile, PcapWriter, type PcapFile, type PcapPacket } from './vlib/pcap.ts';
export { InterfaceCounter, type Interfaces } from './vnet/interface.ts';
export * from './wire/address.ts';
export * from './wire/checksum.ts';
export * from './wire/ethernet.ts';
export * from './wire/arp.ts';
export * from './wire/ip4.ts';
export * from './wire/icmp4.ts';
export * from './wire/udp.ts';
export * from './wire/tcp.ts';
export * from './wire/format.ts';
export {
  nodeHarness,
  NodeHarness,
  loadPlugins,
  PluginLoadError,
  HARNESS_INPUT,
  ip4Frame,
  type HarnessPacket,
  type HarnessOutput,
  type NodeHarnessOptions,
  type NodeRunResult,
  type RunOptions,
  type Ip4FrameSpec,
} from './vlib/node-harness.ts';

export {
  hostStackOf, HostStack, Session, SessionError, SessionState, DatagramHeader,
  type App, type AppCallbacks, type AttachOptions, type SessionErrorCode, type TransportName,
} from './host-stack.ts';

/** An engine with the vnet layer, the host stack and every built-in node registered. */
export function createEngine(options: EngineOptions = {}): Engine {
  const vm = new Engine(options);
  const vnet: Vnet = attachVnet(vm);
  vnet.interfaceOutputTemplate = interfaceOutputTemplate;
  for (const node of VNET_NODES) vm.registerNode(node);
  for (const arc of VNET_ARCS) vm.features.registerArc(arc);
  // Built-in features (plugins declare theirs in definePlugin).
  vm.features.registerFeature({ arc: 'ip4-unicast', node: 'ip4-vxlan-bypass' });
  vm.features.registerArc({
    name: 'interface-output',
    startNodes: [],
    endNode: 'error-drop',
    startNodeFor: (sw) => `${vnet.interfaces.names[sw]}-output`,
    endNodeFor: (sw) => `${vnet.interfaces.names[sw]}-tx`,
  });
  registerHostStack(vm);
  return vm;
}
