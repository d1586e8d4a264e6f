// The session layer's CLI and its startup hook (VPP's syntax): `session enable|disable`,
// `app ns add id <name> secret <n> (if <intfc> | table <id>)`, `show app`, `show app ns`,
// `show session [verbose]`, `show tcp stats`; `registerSessionLayer(vm)` (called through
// src/host-stack.ts's registerHostStack by the composition root) and
// `applyHostStackConfig(vm, session, tcp)`, which the daemon calls with the parsed
// `session { … }` and `tcp { … }` sections. Every
// command parses all of its input first, then calls the HostStack action the API uses.

import { CliError, type CliRegistry } from '../vlib/cli.ts';
import type { Engine } from '../vlib/engine.ts';
import type { SessionConfig, TcpConfig as TcpSectionConfig } from '../vlib/startup-conf.ts';
import type {} from '../vnet/vnet.ts';
import { formatIp4 } from '../wire/address.ts';
import { IpProtocol } from '../wire/ip4.ts';
import { TCP_STATE_NAMES } from '../tcp/connection.ts';
import { hostStackOf, SessionState, type HostStack, type Session } from './host-stack.ts';

type Registry = CliRegistry<Engine>;

const registered = new WeakSet<Engine>();

/** Creates the engine's session layer and registers its CLI, once per engine. */
export function registerSessionLayer(vm: Engine): HostStack {
  const host = hostStackOf(vm);
  if (registered.has(vm)) return host;
  registered.add(vm);
  registerSessionCommands(vm.commands);
  return host;
}

/**
 * startup.conf: `tcp { … }` and `session { enable }`. Times are in seconds, as startup.conf
 * gives them; an item the section lacks (a caller passing part of it) keeps its default.
 */
export function applyHostStackConfig(vm: Engine, session: Pick<SessionConfig, 'enable'>, tcp: Pick<TcpSectionConfig, 'ccAlgo' | 'mtu'> & Partial<TcpSectionConfig>): void {
  const host = registerSessionLayer(vm);
  host.setCongestionControl(tcp.ccAlgo);
  const config = host.tcpConfig;
  config.mss = Math.max(88, Math.min(tcp.mtu - 40, vm.pool.dataSize - 20));
  if (tcp.timewaitTime !== undefined) config.timeWaitMs = tcp.timewaitTime * 1000;
  if (tcp.keepaliveIdle !== undefined) config.keepaliveIdleMs = tcp.keepaliveIdle * 1000;
  if (tcp.keepaliveInterval !== undefined) config.keepaliveIntervalMs = tcp.keepaliveInterval * 1000;
  if (tcp.keepaliveProbes !== undefined) config.keepaliveProbes = tcp.keepaliveProbes;
  if (tcp.synBacklog !== undefined) config.synBacklog = tcp.synBacklog;
  if (tcp.noSynCookies !== undefined) config.synCookies = !tcp.noSynCookies;
  if (host.tcp !== null) Object.assign(host.tcp.config, config);
  if (session.enable) host.enable();
}

function pad(text: string, width: number): string {
  return text.length >= width ? `${text} ` : text.padEnd(width);
}

/**
 * `[thread:index][T] local->remote` as VPP's format_session: T for TCP, U for UDP, and
 * `[CT:T]` for a cut-through session (VPP's format_ct_connection_id).
 */
export function sessionName(s: Session): string {
  const listener = s.state === SessionState.LISTENING;
  const remote = listener ? '0.0.0.0:0' : `${formatIp4(s.remoteAddress)}:${s.remotePort}`;
  const transport = s.protocol === IpProtocol.UDP ? 'U' : 'T';
  return `[0:${s.index}][${s.cutThrough ? 'CT:' : ''}${transport}] ${formatIp4(s.localAddress)}:${s.localPort}->${remote}`;
}

function transportState(host: HostStack, s: Session): string {
  const c = s.connection;
  if (c !== null) return TCP_STATE_NAMES[c.state] ?? 'UNKNOWN';
  // Sessions with no TCP under them (cut-through, UDP) show the session's state; open ones and
  // UDP listeners as VPP's format_udp_connection and format_ct_connection do.
  if (s.state === SessionState.READY) return s.protocol === IpProtocol.UDP ? 'OPENED' : 'ESTABLISHED';
  if (s.state === SessionState.LISTENING) return 'LISTEN';
  return host.stateName(s);
}

/** `show session verbose` rows (VPP: Connection 60, State 15, Rx-f 10, Tx-f 10). */
export function formatSessions(host: HostStack, verbose: boolean): string {
  const live = host.liveSessionList();
  const lines: string[] = [];
  if (verbose && live.length > 0) {
    lines.push(`${pad('Connection', 60)}${pad('State', 15)}${pad('Rx-f', 10)}${pad('Tx-f', 10)}`);
    for (const s of live) {
      const rx = s.rxFifo === null ? 0 : s.rxFifo.maxDequeue();
      const tx = s.txFifo === null ? 0 : s.txFifo.maxDequeue();
      lines.push(`${pad(sessionName(s), 60)}${pad(transportState(host, s), 15)}${pad(String(rx), 10)}${pad(String(tx), 10)}`);
    }
  }
  lines.push(`Thread 0: active sessions ${live.length}`);
  return lines.join('\n');
}

function camelToWords(name: string): string {
  return name.replace(/([A-Z])/g, ' $1').toLowerCase();
}

function requireHost(vm: Engine): HostStack {
  const host = hostStackOf(vm);
  if (!host.enabled) throw new CliError('session layer is disabled (use \'session enable\')', 'ENOTSUP');
  return host;
}

export function registerSessionCommands(cli: Registry): void {
  cli.register({
    path: 'session',
    short: 'Enable or disable the session layer',
    usage: 'session enable|disable',
    action(vm, input) {
      const what = input.expectOneOf(['enable', 'disable'] as const, 'enable or disable');
      input.expectEnd();
      const host = hostStackOf(vm);
      if (what === 'enable') host.enable();
      else if (host.enabled) throw new CliError('session disable is not supported while the engine runs', 'ENOTSUP');
    },
  });

  cli.register({
    path: 'app ns add',
    short: 'Add an application namespace bound to an interface or a table',
    usage: 'app ns add id <name> secret <n> (if <intfc> | table <id>)',
    action(vm, input, out) {
      let id: string | undefined;
      let secret = 0;
      let swIfIndex = -1;
      let tableId = -1;
      while (!input.atEnd()) {
        if (input.keyword('id')) id = input.expectWord('namespace id');
        else if (input.keyword('secret')) secret = input.expectNumber('secret', { min: 0, max: Number.MAX_SAFE_INTEGER });
        else if (input.keyword('if')) {
          const name = input.expectWord('interface');
          swIfIndex = vm.vnet.interfaces.find(name);
          if (swIfIndex < 0 || vm.vnet.interfaces.exists[swIfIndex] === 0) throw new CliError(`unknown interface '${name}'`);
        } else if (input.keyword('table')) tableId = input.expectNumber('table id', { min: 0, max: 0xffffffff });
        else input.fail();
      }
      if (id === undefined) throw new CliError('missing id <name> (expected: app ns add id <name> secret <n> (if <intfc> | table <id>))');
      if (swIfIndex < 0 && tableId < 0) throw new CliError('missing if <intfc> or table <id>');
      if (swIfIndex >= 0 && tableId >= 0) throw new CliError('give either if <intfc> or table <id>, not both');
      const ns = hostStackOf(vm).addNamespace(id, secret, swIfIndex >= 0 ? { swIfIndex } : { tableId });
      out.json({ id: ns.id, index: ns.index });
    },
  });

  cli.register({
    path: 'show app ns',
    short: 'Show application namespaces',
    usage: 'show app ns',
    json: true,
    action(vm, input, out) {
      input.expectEnd();
      const host = hostStackOf(vm);
      const rows = [...host.namespaces.values()].sort((a, b) => a.index - b.index);
      const vnet = vm.vnet;
      out.print(`${pad('Index', 10)}${pad('Secret', 20)}${pad('Interface', 15)}${pad('Table', 10)}Id`);
      for (const ns of rows) {
        const ifName = ns.swIfIndex >= 0 ? vnet.interfaces.names[ns.swIfIndex] : '-';
        const table = vnet.fib.hasTable(ns.fibIndex) ? String(vnet.fib.tableIdOf(ns.fibIndex)) : '-';
        out.print(`${pad(String(ns.index), 10)}${pad(String(ns.secret), 20)}${pad(ifName, 15)}${pad(table, 10)}${ns.id}`);
      }
      out.json(rows.map((ns) => ({ index: ns.index, id: ns.id, secret: ns.secret, swIfIndex: ns.swIfIndex, fibIndex: ns.fibIndex })));
    },
  });

  cli.register({
    path: 'show app',
    short: 'Show attached applications',
    usage: 'show app',
    json: true,
    action(vm, input, out) {
      input.expectEnd();
      const host = hostStackOf(vm);
      const apps = host.apps.filter((a) => a !== undefined);
      if (apps.length === 0) {
        out.print('No active server bindings');
      } else {
        out.print(`${pad('Index', 10)}${pad('Name', 20)}${pad('Namespace', 40)}`);
        for (const a of apps) out.print(`${pad(String(a!.index), 10)}${pad(a!.name, 20)}${pad(String(a!.namespace.index), 40)}`);
      }
      out.json(apps.map((a) => ({ index: a!.index, name: a!.name, namespace: a!.namespace.id, listeners: a!.listeners.size })));
    },
  });

  cli.register({
    path: 'show session',
    short: 'Show sessions',
    usage: 'show session [verbose]',
    json: true,
    action(vm, input, out) {
      const verbose = input.keyword('verbose');
      input.expectEnd();
      const host = requireHost(vm);
      out.print(formatSessions(host, verbose));
      out.json(host.liveSessionList().map((s) => ({
        index: s.index, connection: sessionName(s), state: transportState(host, s),
        rxFifo: s.rxFifo?.maxDequeue() ?? 0, txFifo: s.txFifo?.maxDequeue() ?? 0, app: s.appIndex, cutThrough: s.cutThrough,
      })));
    },
  });

  cli.register({
    path: 'show tcp stats',
    short: 'Show TCP counters',
    usage: 'show tcp stats',
    json: true,
    action(vm, input, out) {
      input.expectEnd();
      const host = requireHost(vm);
      const stats = host.tcp!.stats as unknown as Record<string, number>;
      out.print('Thread 0:');
      for (const [name, value] of Object.entries(stats)) if (value !== 0) out.print(` ${value} ${camelToWords(name)}`);
      if (host.sink.noBuffer > 0) out.print(` ${host.sink.noBuffer} segments dropped for want of a buffer`);
      out.json({ ...stats, noBufferDrops: host.sink.noBuffer });
    },
  });
}
