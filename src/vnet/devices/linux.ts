// The Linux system calls the kernel-facing devices need (tap, host-interface), reached
// through koffi, an FFI whose npm package ships prebuilt binaries (no compiler; see
// docs/devices.md for why it was chosen). koffi is loaded lazily, the first time a tap or a
// host-interface is made, so an engine that never touches the kernel never loads it.
//
// The data path calls `read`/`write` with a plain number address into the engine's buffer
// pool: the pool is one ArrayBuffer whose backing store never moves, and its base address
// is taken once (`addressOf`). A koffi call costs ~170 ns on top of the system call itself
// (measured: getpid through koffi, 2.6 GHz vCPU), so a frame read from a tap costs a
// syscall + that, and nothing is allocated per packet.
//
// Waiting for I/O: Node cannot epoll a raw fd, so `FdWatcher` runs poll(2) as a koffi
// async call (on one libuv pool thread) over the fds whose input nodes found them empty,
// plus an eventfd used to cut a wait short when the set changes. A readable fd interrupts
// its input node; an idle engine uses no CPU.

import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';

/** Constants from <linux/if_tun.h>, <linux/if_ether.h>, <linux/if_packet.h>, <fcntl.h>. */
export const Linux = {
  O_RDWR: 0o2,
  O_NONBLOCK: 0o4000,
  O_CLOEXEC: 0o2000000,
  TUNSETIFF: 0x400454ca,
  IFF_TAP: 0x0002,
  IFF_NO_PI: 0x1000,
  AF_PACKET: 17,
  SOCK_RAW: 3,
  SOCK_NONBLOCK: 0o4000,
  SOCK_CLOEXEC: 0o2000000,
  ETH_P_ALL: 0x0003,
  SOL_PACKET: 263,
  PACKET_IGNORE_OUTGOING: 23,
  SOL_SOCKET: 1,
  SO_RCVBUF: 8,
  SO_SNDBUF: 7,
  POLLIN: 0x1,
  EFD_NONBLOCK: 0o4000,
  EFD_CLOEXEC: 0o2000000,
  EAGAIN: 11,
  EINTR: 4,
  ENOBUFS: 105,
} as const;

export class LinuxError extends Error {
  readonly code: string;
  constructor(message: string, code = 'EIO') {
    super(message);
    this.code = code;
  }
}

type Fn = ((...args: never[]) => number) & { async: (...args: unknown[]) => void };

/** The bound libc functions (numbers in, numbers out). */
export interface Libc {
  open(path: string, flags: number): number;
  close(fd: number): number;
  /** read(2) into the byte at `address`. */
  read(fd: number, address: number, count: number): number;
  /** readv(2)/writev(2): `iov` is the address of `count` struct iovec (16 bytes each: base, length). */
  readv(fd: number, iov: number, count: number): number;
  writev(fd: number, iov: number, count: number): number;
  write(fd: number, address: number, count: number): number;
  ioctlIfreq(fd: number, request: number, ifreq: Uint8Array): number;
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, address: Uint8Array, length: number): number;
  setsockopt(fd: number, level: number, name: number, value: Int32Array, length: number): number;
  ifNameToIndex(name: string): number;
  eventfd(initial: number, flags: number): number;
  /** poll(2) on a thread: `callback(result)` runs on the main thread. */
  pollAsync(fds: number, count: number, timeoutMs: number, callback: (result: number) => void): void;
  /** Native memory for the pollfd array shared with the poll thread. */
  allocPollFds(count: number): { address: number; view: DataView; free(): void };
  /** Base address of a typed array's bytes (valid while the array is alive). */
  addressOf(bytes: Uint8Array): number;
  errno(): number;
  strerror(errno: number): string;
}

let libc: Libc | null = null;

/** Loads koffi and binds libc once; throws a LinuxError naming what is missing. */
export function linux(): Libc {
  if (libc !== null) return libc;
  if (process.platform !== 'linux') throw new LinuxError(`kernel devices need Linux (this is ${process.platform})`, 'ENOTSUP');
  let koffi: typeof import('koffi');
  try {
    koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
  } catch (error) {
    throw new LinuxError(`kernel devices need the koffi package (npm install koffi): ${(error as Error).message}`, 'ENOTSUP');
  }
  const lib = koffi.load('libc.so.6');
  const f = (signature: string): Fn => lib.func(signature) as unknown as Fn;
  const open = f('int open(const char *path, int flags)');
  const close = f('int close(int fd)');
  const read = f('intptr_t read(int fd, uintptr_t buf, size_t count)');
  const write = f('intptr_t write(int fd, uintptr_t buf, size_t count)');
  const readv = f('intptr_t readv(int fd, uintptr_t iov, int iovcnt)');
  const writev = f('intptr_t writev(int fd, uintptr_t iov, int iovcnt)');
  // ioctl, open and fcntl are variadic in C; on x86-64 and arm64 Linux a fixed-argument
  // declaration with integer/pointer arguments passes them the same way.
  const ioctl = f('int ioctl(int fd, unsigned long request, void *arg)');
  const socket = f('int socket(int domain, int type, int protocol)');
  const bind = f('int bind(int fd, const void *addr, uint32_t len)');
  const setsockopt = f('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)');
  const ifNameToIndex = f('unsigned int if_nametoindex(const char *name)');
  const eventfd = f('int eventfd(unsigned int initval, int flags)');
  const poll = f('int poll(uintptr_t fds, unsigned long nfds, int timeout)');
  const malloc = f('uintptr_t malloc(size_t size)');
  const free = f('void free(uintptr_t ptr)');
  const strerror = lib.func('const char *strerror(int errnum)') as unknown as (errno: number) => string;
  // memmove(p, p, 0) returns p: the address koffi passes for the typed array's bytes.
  const memmove = f('uintptr_t memmove(void *dest, const void *src, size_t n)');
  libc = {
    open: (path, flags) => (open as unknown as (p: string, fl: number) => number)(path, flags),
    close: (fd) => (close as unknown as (fd: number) => number)(fd),
    read: read as unknown as Libc['read'],
    readv: readv as unknown as Libc['readv'],
    writev: writev as unknown as Libc['writev'],
    write: write as unknown as Libc['write'],
    ioctlIfreq: ioctl as unknown as Libc['ioctlIfreq'],
    socket: socket as unknown as Libc['socket'],
    bind: bind as unknown as Libc['bind'],
    setsockopt: setsockopt as unknown as Libc['setsockopt'],
    ifNameToIndex: ifNameToIndex as unknown as Libc['ifNameToIndex'],
    eventfd: eventfd as unknown as Libc['eventfd'],
    pollAsync(fds, count, timeoutMs, callback) {
      poll.async(fds, count, timeoutMs, (error: unknown, result: number) => callback(error ? -1 : result));
    },
    allocPollFds(count) {
      const size = Math.max(8, count * 8);
      const address = Number((malloc as unknown as (n: number) => number | bigint)(size));
      if (address === 0) throw new LinuxError('out of memory for pollfd array', 'ENOMEM');
      const view = new DataView(koffi.view(BigInt(address), size));
      return { address, view, free: () => (free as unknown as (p: number) => void)(address) };
    },
    addressOf: (bytes) => Number((memmove as unknown as (a: Uint8Array, b: Uint8Array, n: number) => number | bigint)(bytes, bytes, 0)),
    errno: () => koffi.errno(),
    strerror: (errno) => strerror(errno),
  };
  return libc;
}

/** True when this process may make taps, packet sockets and namespaces. */
export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Runs iproute2 (`ip …`) for host-side configuration; its error becomes one line. */
export function ipCommand(args: readonly string[]): string {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    throw new LinuxError(`ip ${args.join(' ')}: ${stderr || (error as Error).message}`, 'EIO');
  }
}

/** The MAC address of a Linux interface, read from sysfs of this namespace, or null. */
export function hostMac(ifname: string): Uint8Array | null {
  try {
    const out = ipCommand(['-o', 'link', 'show', 'dev', ifname]);
    const m = /link\/ether ([0-9a-f:]{17})/.exec(out);
    if (m === null) return null;
    return Uint8Array.from(m[1].split(':').map((h) => parseInt(h, 16)));
  } catch {
    return null;
  }
}

// ------------------------------------------------------------------ fd watcher

interface Watch {
  fd: number;
  armed: boolean;
  onReadable: () => void;
}

/**
 * One poll(2) thread for every kernel fd of an engine. `arm(fd)` says "my input node found
 * this fd empty: tell me when it is readable"; the callback fires once per arm. While no
 * fd is armed, nothing runs. A wait lasts at most `timeoutMs`, and it is not renewed while
 * the engine is stopped, so a stopped engine never keeps the process alive for long.
 */
export class FdWatcher {
  private readonly watches = new Map<number, Watch>();
  private readonly lib: Libc;
  private readonly wakeFd: number;
  private pollFds: { address: number; view: DataView; free(): void };
  private capacity = 0;
  private inFlight = false;
  private closed = false;
  private readonly wakeBuffer = new BigUint64Array(1);
  private readonly wakeBytes = new Uint8Array(this.wakeBuffer.buffer);
  private wakeAddress = 0;
  /** poll(2) calls made (for tests and `show hardware`). */
  polls = 0;

  constructor(private readonly isRunning: () => boolean, private readonly timeoutMs = 250) {
    this.lib = linux();
    this.wakeFd = this.lib.eventfd(0, Linux.EFD_NONBLOCK | Linux.EFD_CLOEXEC);
    if (this.wakeFd < 0) throw new LinuxError(`eventfd: ${this.lib.strerror(this.lib.errno())}`);
    this.pollFds = this.lib.allocPollFds(8);
    this.capacity = 8;
    this.wakeAddress = this.lib.addressOf(this.wakeBytes);
  }

  add(fd: number, onReadable: () => void): void {
    this.watches.set(fd, { fd, armed: false, onReadable });
  }

  remove(fd: number): void {
    this.watches.delete(fd);
    this.kick();
  }

  /** Asks to be told (once) when `fd` becomes readable. */
  arm(fd: number): void {
    const w = this.watches.get(fd);
    if (w === undefined || w.armed) return;
    w.armed = true;
    if (this.inFlight) this.kick();
    else this.startPoll();
  }

  /** Stops the thread's wait and frees the poll thread's memory; the watcher is done. */
  close(): void {
    this.closed = true;
    this.watches.clear();
    this.kick();
    if (!this.inFlight) this.release();
  }

  private release(): void {
    this.pollFds.free();
    this.lib.close(this.wakeFd);
  }

  private kick(): void {
    if (!this.inFlight) return;
    this.wakeBuffer[0] = 1n;
    this.lib.write(this.wakeFd, this.wakeAddress, 8);
  }

  private startPoll(): void {
    if (this.closed || this.inFlight) return;
    const armed: Watch[] = [];
    for (const w of this.watches.values()) if (w.armed) armed.push(w);
    if (armed.length === 0) return;
    const count = armed.length + 1;
    if (count > this.capacity) {
      this.pollFds.free();
      this.capacity = count * 2;
      this.pollFds = this.lib.allocPollFds(this.capacity);
    }
    // struct pollfd { int fd; short events; short revents; }, little-endian host order.
    const view = this.pollFds.view;
    view.setInt32(0, this.wakeFd, true);
    view.setInt16(4, Linux.POLLIN, true);
    view.setInt16(6, 0, true);
    for (let i = 0; i < armed.length; i++) {
      view.setInt32((i + 1) * 8, armed[i].fd, true);
      view.setInt16((i + 1) * 8 + 4, Linux.POLLIN, true);
      view.setInt16((i + 1) * 8 + 6, 0, true);
    }
    this.inFlight = true;
    this.polls++;
    this.lib.pollAsync(this.pollFds.address, count, this.timeoutMs, () => this.pollDone(count));
  }

  private pollDone(count: number): void {
    this.inFlight = false;
    if (this.closed) {
      this.release();
      return;
    }
    const view = this.pollFds.view;
    if (view.getInt16(6, true) !== 0) this.lib.read(this.wakeFd, this.wakeAddress, 8);
    const running = this.isRunning();
    for (let i = 1; i < count; i++) {
      const fd = view.getInt32(i * 8, true);
      const w = this.watches.get(fd);
      if (w === undefined || !w.armed) continue;
      // Readable (or error/hangup: the input node's read reports it), or the engine stopped:
      // hand the fd back to its input node, which re-arms when it finds the fd empty.
      if (view.getInt16(i * 8 + 6, true) !== 0 || !running) {
        w.armed = false;
        w.onReadable();
      }
    }
    if (running) this.startPoll();
  }
}
