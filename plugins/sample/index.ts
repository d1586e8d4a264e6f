// The sample plugin (VPP's src/plugins/sample): the smallest plugin that does something
// visible. It registers one node, `sample`, as a feature on the `device-input` arc, and one
// CLI command, `sample macswap <interface> [disable]`, that switches the node on or off
// for an interface. With it on, every frame the interface receives is sent straight back
// with its MAC addresses swapped.

import { CliError, definePlugin, type CliCommand, type Engine } from '../../src/index.ts';
import sampleNode from './sample-node.ts';

// #region docs:action
/**
 * Switches MAC swapping on or off for one interface (VPP: sample_macswap_enable_disable).
 * The CLI calls this; so would an API. Throws (code ENODEV) for an interface that is not there.
 */
export function sampleMacswapEnableDisable(vm: Engine, swIfIndex: number, enable: boolean): void {
  const interfaces = vm.vnet.interfaces;
  if (swIfIndex >= interfaces.count || interfaces.exists[swIfIndex] !== 1 || swIfIndex === 0) {
    throw new CliError(`invalid interface index ${swIfIndex}`, 'ENODEV');
  }
  vm.features.enable('device-input', 'sample', swIfIndex, enable);
}
// #endregion docs:action

// #region docs:command
const macswapCommand: CliCommand<Engine> = {
  path: 'sample macswap',
  short: 'Swap the MAC addresses of frames received on an interface and send them back',
  usage: 'sample macswap <interface-name> [disable]',
  action(vm, input) {
    // Parse everything first; bad input throws a CliError naming the token, nothing changed.
    let name: string | undefined;
    let enable = true;
    while (!input.atEnd()) {
      if (input.keyword('disable')) enable = false;
      else if (name === undefined) name = input.expectWord('interface name');
      else input.fail();
    }
    if (name === undefined) throw new CliError('please specify an interface: sample macswap <interface-name> [disable]');
    const swIfIndex = vm.vnet.interfaces.expect(name);
    sampleMacswapEnableDisable(vm, swIfIndex, enable);
  },
};
// #endregion docs:command

// #region docs:plugin
export default definePlugin({
  name: 'sample',
  description: 'Sample of a vecnet plugin: swaps MAC addresses on device-input',
  nodes: [sampleNode],
  features: [{ arc: 'device-input', node: 'sample' }],
  commands: [macswapCommand],
});
// #endregion docs:plugin
