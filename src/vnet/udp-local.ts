// UDP destination ports handled inside the engine (VPP's udp_register_dst_port): a
// table from port to the next index that `ip4-udp-lookup` takes for a datagram addressed
// to one of our addresses. VXLAN registers 4789 → vxlan4-input, the host stack its
// sessions' ports. The data path reads `nextFor[port]` (0: nobody listens, the datagram
// gets an ICMP port unreachable); the control path registers and unregisters by node name.
//
// The next index is ip4-udp-lookup's arc to the node (vm.addNext). In a graph without
// ip4-udp-lookup (unit tests of other nodes) a registration is kept as pending and its
// arc is made by `resolvePending()`, which every later register/unregister also runs.

import type { Vnet } from './vnet.ts';

/** The node that reads the table. */
export const UDP_LOOKUP_NODE = 'ip4-udp-lookup';

export class UdpLocalError extends Error {
  readonly code: string;
  constructor(message: string, code = 'EINVAL') {
    super(message);
    this.code = code;
  }
}

export interface UdpLocalRegistration {
  readonly port: number;
  readonly node: string;
  /** ip4-udp-lookup's next index to the node; 0 while ip4-udp-lookup does not exist yet. */
  readonly next: number;
}

export class UdpLocalPorts {
  /** Port → ip4-udp-lookup next index; 0 when no node handles the port. Read per packet. */
  readonly nextFor = new Uint16Array(65536);
  private readonly nodeFor = new Map<number, string>();

  constructor(readonly vnet: Vnet) {}

  /**
   * Hands datagrams to `port` over to `nodeName`. Registering a port again for the same
   * node does nothing; for another node it is refused (EADDRINUSE).
   */
  register(port: number, nodeName: string): void {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UdpLocalError(`bad UDP port ${port} (expected 1..65535)`);
    const current = this.nodeFor.get(port);
    if (current === nodeName) return;
    if (current !== undefined) throw new UdpLocalError(`UDP port ${port} is already registered to ${current}`, 'EADDRINUSE');
    this.nodeFor.set(port, nodeName);
    this.resolvePending();
  }

  /** Stops handing `port` to its node; returns false when it was not registered. */
  unregister(port: number): boolean {
    if (!this.nodeFor.delete(port)) return false;
    if (port >= 0 && port <= 65535) this.nextFor[port] = 0;
    this.resolvePending();
    return true;
  }

  /** Makes ip4-udp-lookup's arcs for registrations made before it existed. */
  resolvePending(): void {
    const vm = this.vnet.vm;
    if (vm.node(UDP_LOOKUP_NODE) === undefined) return;
    for (const [port, node] of this.nodeFor) {
      if (this.nextFor[port] === 0) this.nextFor[port] = vm.addNext(UDP_LOOKUP_NODE, node);
    }
  }

  /** The node registered for a port, if any. */
  nodeOf(port: number): string | undefined {
    return this.nodeFor.get(port);
  }

  /** Every registration, by port. */
  registered(): UdpLocalRegistration[] {
    return [...this.nodeFor]
      .sort((a, b) => a[0] - b[0])
      .map(([port, node]) => ({ port, node, next: this.nextFor[port] }));
  }
}
