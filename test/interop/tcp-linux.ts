// Helpers for the TCP tests against the Linux kernel (test/interop/tcp-echo.test.ts, root
// only): a tap into a fresh namespace with the session layer enabled, Python peers run in
// that namespace with their stdout read line by line (and their stdin kept open, so a test
// can tell a peer when to close), a minimal builtin client app that exposes its connection,
// and a pcap reader that turns a tcpdump capture into TCP segments with their options
// parsed by vecnet's own option parser (sturdier than reading tcpdump's text).

import { spawn } from 'node:child_process';
import { createEngine } from '../../src/index.ts';
import type { Engine } from '../../src/vlib/engine.ts';
import { readPcapFile, LINKTYPE_ETHERNET } from '../../src/vlib/pcap.ts';
import { ethernetType, ETHERNET_HEADER_LENGTH } from '../../src/wire/ethernet.ts';
import { ip4HeaderLength, ip4Protocol, ip4Src, ip4Dst, ip4TotalLength, IpProtocol } from '../../src/wire/ip4.ts';
import {
  parseTcpOptions, tcpAcknowledgmentNumber, tcpDstPort, tcpFlags, tcpHeaderLength, tcpSequenceNumber, tcpSrcPort, tcpWindow,
  TCP_HEADER_LENGTH, type TcpOptions,
} from '../../src/wire/tcp.ts';
import { hostStackOf, type HostStack, type Session, type SessionErrorCode } from '../../src/session/host-stack.ts';
import { parseIp4 } from '../../src/wire/address.ts';
import { Cleanup, TAG, capture, pingFrom } from './kernel.ts';

// ---------------------------------------------------------------- topology

export interface TcpTap {
  vm: Engine;
  host: HostStack;
  /** The namespace holding the kernel's end of the tap. */
  ns: string;
  /** The kernel's interface name (inside `ns`). */
  hostIf: string;
  /** vecnet's address (on the tap) and the kernel's. */
  ours: string;
  theirs: string;
}

/**
 * A tap between vecnet (10.200.<net>.1) and a new namespace (10.200.<net>.2), session layer
 * enabled, engine started, and both neighbor tables filled by one ping from the namespace
 * (otherwise vecnet's first SYN is dropped by ip4-glean while ARP resolves, as VPP's is, and
 * the connect waits the 1 s initial RTO); everything is undone by `cleanup`.
 */
export async function tcpTap(cleanup: Cleanup, suffix: string, net: number): Promise<TcpTap> {
  const vm = createEngine();
  const ns = cleanup.netns(`vn-tc${suffix}-${TAG}`);
  const hostIf = `vk${suffix}${TAG}`;
  const ours = `10.200.${net}.1`;
  const theirs = `10.200.${net}.2`;
  cleanup.add(() => vm.vnet.devices.closeAll());
  const name = vm.cli(`create tap host-if-name ${hostIf} host-ns ${ns} host-ip4-addr ${theirs}/24`).trim();
  vm.cli(`set interface state ${name} up`);
  vm.cli(`set interface ip address ${name} ${ours}/24`);
  vm.cli('session enable');
  vm.start();
  cleanup.add(() => vm.stop());
  const ping = await pingFrom(ns, ours, 1);
  if (ping.status !== 0) throw new Error(`the namespace cannot ping vecnet at ${ours}: ${ping.output}`);
  return { vm, host: hostStackOf(vm), ns, hostIf, ours, theirs };
}

/** tcpdump on the kernel's end of the tap, stopped by `cleanup` at the latest. */
export async function captureTap(cleanup: Cleanup, t: TcpTap, file: string, filter: readonly string[]): Promise<{ stop(): Promise<void> }> {
  const tcpdump = await capture(t.ns, t.hostIf, file, [...filter]);
  cleanup.add(() => tcpdump.stop());
  return tcpdump;
}

// ---------------------------------------------------------------- Python peers

export interface Peer {
  /** Complete stdout lines so far. */
  readonly lines: string[];
  /** Resolves with the first stdout line matching `pattern` (rejects after `timeoutMs` or at exit). */
  line(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Writes one line to the peer's stdin. */
  tell(text: string): void;
  /** Resolves when the process has exited: its status and everything it printed. */
  readonly exited: Promise<{ status: number; output: string }>;
  kill(): void;
}

/** Runs `python3 -u -c script args…` inside namespace `ns`; killed by `cleanup` if still running. */
export function python(cleanup: Cleanup, ns: string, script: string, args: readonly string[], timeoutMs = 40000): Peer {
  const child = spawn('ip', ['netns', 'exec', ns, 'python3', '-u', '-c', script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let output = '';
  let partial = '';
  let done = false;
  const waiters: (() => void)[] = [];
  const notify = (): void => {
    for (const w of waiters.splice(0)) w();
  };
  child.stdout.on('data', (d: Buffer) => {
    const text = d.toString();
    output += text;
    partial += text;
    const parts = partial.split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
    notify();
  });
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exited = new Promise<{ status: number; output: string }>((resolve) => {
    child.on('close', (status) => {
      clearTimeout(timer);
      done = true;
      if (partial !== '') lines.push(partial);
      notify();
      resolve({ status: status ?? 1, output });
    });
  });
  cleanup.add(() => {
    if (!done) child.kill('SIGKILL');
  });
  return {
    lines,
    exited,
    line(pattern, waitMs = 10000) {
      return new Promise((resolve, reject) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const check = (): boolean => {
          const found = lines.find((l) => pattern.test(l));
          if (found === undefined && !done) return false;
          clearTimeout(timer);
          if (found !== undefined) resolve(found);
          else reject(new Error(`the Python peer exited with no line matching ${pattern}; it printed:\n${output}`));
          return true;
        };
        if (check()) return;
        const waiter = (): void => {
          if (!check()) waiters.push(waiter);
        };
        waiters.push(waiter);
        timer = setTimeout(() => {
          const at = waiters.indexOf(waiter);
          if (at >= 0) waiters.splice(at, 1);
          reject(new Error(`no line matching ${pattern} from the Python peer within ${waitMs} ms; it printed:\n${output}`));
        }, waitMs);
      });
    },
    tell(text) {
      child.stdin.write(`${text}\n`);
    },
    kill() {
      if (!done) child.kill('SIGKILL');
    },
  };
}

/**
 * Python helper shared by the scripts below: what Linux negotiated on a socket, from
 * TCP_INFO (linux/tcp.h: byte 5 tcpi_options — 1 timestamps, 2 SACK, 4 window scale; byte
 * 6 tcpi_snd_wscale in the low nibble, tcpi_rcv_wscale in the high one; tcpi_snd_mss at 16).
 */
const PY_TCP_INFO = `
import json, socket, struct
def tcp_info(s):
    b = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    return {'timestamps': bool(b[5] & 1), 'sack': bool(b[5] & 2), 'wscale': bool(b[5] & 4),
            'sndWscale': b[6] & 15, 'rcvWscale': b[6] >> 4, 'sndMss': struct.unpack_from('I', b, 16)[0]}
`;

/**
 * A Linux echo server for one connection: `addr port size mode`. It prints `listening`, then
 * echoes every byte while hashing what it received (SHA-256). Mode `wait`: it reads until
 * the peer closes (recv returns b''), then closes — the peer closes first. Mode `first`: once
 * `size` bytes are echoed it half-closes (shutdown SHUT_WR) and then reads to EOF — Linux
 * closes first. It prints one JSON line: bytes, sha256, tcp info, whether EOF was clean,
 * and, for `wait`, whether any byte came after EOF (none can).
 */
export const LINUX_ECHO_SERVER = `${PY_TCP_INFO}
import hashlib, sys
addr, port, size, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((addr, port))
ls.listen(4)
print('listening', flush=True)
s, peer = ls.accept()
s.settimeout(20)
info = tcp_info(s)
h = hashlib.sha256()
got = 0
eof = 'none'
extra = 0
try:
    while True:
        data = s.recv(262144)
        if not data:
            eof = 'clean'
            break
        h.update(data)
        got += len(data)
        s.sendall(data)
        if mode == 'first' and got >= size:
            s.shutdown(socket.SHUT_WR)
            while True:
                more = s.recv(65536)
                if not more:
                    break
                extra += len(more)
            eof = 'clean'
            break
except ConnectionResetError:
    eof = 'reset'
except socket.timeout:
    eof = 'timeout'
s.close()
print(json.dumps({'bytes': got, 'sha256': h.hexdigest(), 'eof': eof, 'extra': extra, 'info': info}), flush=True)
`;

/**
 * A Linux client for one connection: `addr port size`. It connects, prints its TCP_INFO as
 * JSON, sends `size` bytes (byte i is i·7 mod 251) while reading the echo, checks it,
 * prints `echoed <n> ok|MISMATCH`, waits for a line on stdin, then half-closes and reads to
 * EOF (prints `eof clean|reset`).
 */
export const LINUX_CLIENT = `${PY_TCP_INFO}
import sys, threading
addr, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
pattern = bytes((i * 7) % 251 for i in range(251 * 256))
s = socket.create_connection((addr, port), timeout=20)
print(json.dumps(tcp_info(s)), flush=True)
def send():
    left = size
    while left > 0:
        n = min(left, len(pattern))
        s.sendall(pattern[:n])
        left -= n
t = threading.Thread(target=send)
t.start()
got = bytearray()
while len(got) < size:
    data = s.recv(262144)
    if not data:
        break
    got += data
t.join()
ok = bytes(got) == bytes((i * 7) % 251 for i in range(size))
print('echoed', len(got), 'ok' if ok else 'MISMATCH', flush=True)
sys.stdin.readline()
s.shutdown(socket.SHUT_WR)
try:
    while s.recv(65536):
        pass
    print('eof clean', flush=True)
except ConnectionResetError:
    print('eof reset', flush=True)
s.close()
`;

/** What TCP_INFO said, as the scripts print it. */
export interface LinuxTcpInfo {
  timestamps: boolean;
  sack: boolean;
  wscale: boolean;
  sndWscale: number;
  rcvWscale: number;
  sndMss: number;
}

// ---------------------------------------------------------------- a small vecnet client app

export interface ConnectionSnapshot {
  sndWscale: number;
  rcvWscale: number;
  offeredWscale: number;
  timestampsEnabled: boolean;
  sackEnabled: boolean;
  sndMss: number;
  rxFifoSize: number;
}

export interface ExchangeResult {
  /** The TCP connection's negotiated options, read when the connect completed. */
  connection: ConnectionSnapshot | null;
  received: number;
  /** Every received byte equalled what was sent at the same offset. */
  exact: boolean;
  /** Connect failure, reset or early close; null when all went well. */
  error: string | null;
}

/**
 * A builtin app that connects to address:port, sends `bytes` bytes (byte i is i·7 mod 251,
 * the same stream LINUX_CLIENT uses), reads the echo and checks it, then closes and waits
 * for the peer's FIN. It records the connection's negotiated options on connect.
 */
export function exchange(vm: Engine, address: string, port: number, bytes: number, fifoSize = 1 << 20): Promise<ExchangeResult> {
  const host = hostStackOf(vm);
  const stream = new Uint8Array(251 * 256 + 65536);
  for (let i = 0; i < stream.length; i++) stream[i] = (i * 7) % 251;
  const scratch = new Uint8Array(65536);
  const result: ExchangeResult = { connection: null, received: 0, exact: true, error: null };
  let sent = 0;
  let closing = false;
  let finished = false;
  return new Promise((resolve) => {
    const finish = (): void => {
      if (finished) return;
      finished = true;
      // Detach after the callback that led here has returned.
      setImmediate(() => {
        host.detach(app);
        resolve(result);
      });
    };
    const fill = (s: Session): void => {
      const tx = s.txFifo;
      if (tx === null) return;
      let wrote = 0;
      while (sent < bytes) {
        const n = Math.min(bytes - sent, 65536);
        const took = tx.enqueue(stream, sent % (251 * 256), n);
        if (took === 0) break;
        sent += took;
        wrote += took;
      }
      if (wrote > 0) host.send(s);
    };
    const drain = (s: Session): void => {
      const rx = s.rxFifo;
      if (rx === null) return;
      let read = 0;
      for (;;) {
        const n = rx.dequeue(scratch, 0, scratch.length);
        if (n === 0) break;
        for (let i = 0; i < n; i++) if (scratch[i] !== ((result.received + i) * 7) % 251) result.exact = false;
        result.received += n;
        read += n;
      }
      if (read > 0) host.rxConsumed(s);
      if (result.received >= bytes && !closing) {
        closing = true;
        host.close(s);
      }
    };
    const fail = (why: string): void => {
      result.error ??= why;
      finish();
    };
    const app = host.attach({
      name: `tcp-interop-client-${Math.random().toString(36).slice(2, 8)}`,
      rxFifoSize: fifoSize,
      txFifoSize: fifoSize,
      callbacks: {
        connected: (s, error: SessionErrorCode | null) => {
          if (error !== null) return fail(`connect: ${error}`);
          const c = s.connection!;
          result.connection = {
            sndWscale: c.sndWscale, rcvWscale: c.rcvWscale, offeredWscale: c.offeredWscale,
            timestampsEnabled: c.timestampsEnabled, sackEnabled: c.sackEnabled, sndMss: c.sndMss, rxFifoSize: s.rxFifo!.size,
          };
          fill(s);
        },
        txSpace: fill,
        rx: drain,
        disconnected: (s) => {
          drain(s);
          if (!closing) fail(`peer closed after ${result.received} of ${bytes} bytes`);
          else finish();
        },
        reset: (_s, code) => fail(`reset: ${code}`),
      },
    });
    host.connect(app, parseIp4(address)!, port);
    vm.wake();
  });
}

// ---------------------------------------------------------------- pcap → TCP segments

export interface CapturedSegment {
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  flags: number;
  seq: number;
  ack: number;
  window: number;
  payload: number;
  options: TcpOptions;
  /** The option list was malformed (vecnet's parser rejected it). */
  badOptions: boolean;
}

function ip4Text(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;
}

/** The IPv4/TCP segments of an Ethernet pcap file, in capture order. */
export function readTcpSegments(file: string): CapturedSegment[] {
  const pcap = readPcapFile(file);
  if (pcap.linkType !== LINKTYPE_ETHERNET) throw new Error(`${file}: link type ${pcap.linkType}, expected Ethernet`);
  const out: CapturedSegment[] = [];
  for (const { data } of pcap.packets) {
    if (data.length < ETHERNET_HEADER_LENGTH + 20 || ethernetType(data, 0) !== 0x0800) continue;
    const ip = ETHERNET_HEADER_LENGTH;
    if (ip4Protocol(data, ip) !== IpProtocol.TCP) continue;
    const tcp = ip + ip4HeaderLength(data, ip);
    if (data.length < tcp + TCP_HEADER_LENGTH) continue;
    const headerLength = tcpHeaderLength(data, tcp);
    const options = parseTcpOptions(data, tcp + TCP_HEADER_LENGTH, Math.min(headerLength, data.length - tcp) - TCP_HEADER_LENGTH);
    out.push({
      src: ip4Text(ip4Src(data, ip)),
      dst: ip4Text(ip4Dst(data, ip)),
      srcPort: tcpSrcPort(data, tcp),
      dstPort: tcpDstPort(data, tcp),
      flags: tcpFlags(data, tcp),
      seq: tcpSequenceNumber(data, tcp),
      ack: tcpAcknowledgmentNumber(data, tcp),
      window: tcpWindow(data, tcp),
      payload: ip4TotalLength(data, ip) - (tcp - ip) - headerLength,
      options: options ?? parseTcpOptions(new Uint8Array(0), 0, 0)!,
      badOptions: options === null,
    });
  }
  return out;
}
