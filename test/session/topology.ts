// The in-engine host-stack world for tests and benches: two app namespaces in two VRFs of
// one engine, joined by a veth pair — `left` (10.200.2.1, table 0, namespace `server`) and
// `right` (10.200.2.2, table 1, namespace `client`) — with the session layer enabled.

import { createEngine, type Engine, type EngineOptions } from '../../src/index.ts';
import { hostStackOf } from '../../src/host-stack.ts';
import type { HostStack } from '../../src/session/host-stack.ts';

export const SERVER_IP = '10.200.2.1';
export const CLIENT_IP = '10.200.2.2';

export function twoVrfs(options: { cc?: 'newreno' | 'cubic'; mtu?: number; engine?: EngineOptions } = {}): { vm: Engine; host: HostStack } {
  const vm = createEngine({ buffers: 32768, ...options.engine });
  const host = hostStackOf(vm);
  if (options.cc !== undefined) host.setCongestionControl(options.cc);
  if (options.mtu !== undefined) host.tcpConfig.mss = options.mtu - 40;
  for (const line of [
    'session enable',
    'create veth-pair left right',
    'ip table add 1',
    'set interface ip table right 1',
    'set interface state left up',
    'set interface state right up',
    `set interface ip address left ${SERVER_IP}/24`,
    `set interface ip address right ${CLIENT_IP}/24`,
    'app ns add id server secret 1234 table 0',
    'app ns add id client secret 5678 table 1',
  ]) vm.cli(line);
  // Static neighbors: the first SYN would otherwise meet an unresolved neighbor and be
  // dropped by ip4-glean (as VPP drops it), costing a 1 s SYN retransmission.
  const ifs = vm.vnet.interfaces;
  vm.cli(`set ip neighbor left ${CLIENT_IP} ${ifs.macText(ifs.find('right'))} static`);
  vm.cli(`set ip neighbor right ${SERVER_IP} ${ifs.macText(ifs.find('left'))} static`);
  if (options.mtu !== undefined) {
    vm.cli(`set interface mtu packet ${options.mtu} left`);
    vm.cli(`set interface mtu packet ${options.mtu} right`);
  }
  return { vm, host };
}
