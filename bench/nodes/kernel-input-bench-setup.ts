// Shared by the tap-input and af-packet-input benches. These nodes are a read(2) per frame
// on a kernel fd, so their work cannot be isolated from the kernel: the cases exist only as
// root (else one line says why) and each call first has a kernel sender write the vector
// into the device (an AF_PACKET socket on the Linux side: a write(2) per frame, included),
// then calls the node until it has read them all. Two more cases do the same with a bare
// readv(2) loop as the node reads (READ_IOVECS buffers offered per frame) and a bare read(2)
// loop in place of the node, so the ratios show what the node adds to its syscalls and what
// offering a chain of buffers costs over read(2) into one.
// The Linux interfaces are made in the root namespace without addresses and removed on exit.

import { FRAME_SIZE } from '../../src/vlib/frame.ts';
import type { Engine } from '../../src/index.ts';
import { READ_IOVECS, type KernelQueues } from '../../src/vnet/devices/kernel-queues.ts';
import { Linux, linux } from '../../src/vnet/devices/linux.ts';
import { benchReport, vectorBench, type BenchCase } from '../harness.ts';
import { inputCall, VECTOR_SIZES } from '../node-bench.ts';
import { l2Engine } from './l2-bench-setup.ts';
import { udpFrame } from '../../test/nodes/l2-helpers.ts';

export interface KernelBenchDevice {
  /** Linux interface to send from (its frames arrive on the vecnet interface). */
  sender: string;
  sw: number;
  queues: KernelQueues;
}

function rootSkipReason(): string | null {
  if (process.platform !== 'linux') return 'needs Linux';
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'needs root (TAP, AF_PACKET)';
  return null;
}

export function kernelInputBench(node: string, make: (vm: Engine) => KernelBenchDevice): void {
  const skip = rootSkipReason();
  if (skip !== null) {
    benchReport(() => [`${node}: skipped, ${skip}`]);
    return;
  }
  let made: Engine | null = null;
  // After the cases: close the fds (the tap goes with its fd) and give the fd watcher's
  // in-flight poll(2) time to return, so nothing native is still running at exit.
  benchReport(async () => {
    made?.vnet.devices.closeAll();
    await new Promise((resolve) => setTimeout(resolve, 400));
    return [];
  });
  vectorBench(() => {
    const vm = l2Engine();
    made = vm;
    const device = make(vm);
    const lib = linux();
    const fd = lib.socket(Linux.AF_PACKET, Linux.SOCK_RAW | Linux.SOCK_CLOEXEC, 0x0300);
    const address = new Uint8Array(20);
    const view = new DataView(address.buffer);
    view.setUint16(0, Linux.AF_PACKET, true);
    view.setUint16(2, Linux.ETH_P_ALL, false);
    view.setInt32(4, lib.ifNameToIndex(device.sender), true);
    if (fd < 0 || lib.bind(fd, address, 20) < 0) throw new Error(`${node} bench: AF_PACKET sender on ${device.sender}: ${lib.strerror(lib.errno())}`);
    const frame = udpFrame(vm.vnet.interfaces.macText(device.sw), '02:00:00:00:00:10', '10.0.0.2', '10.0.0.1');
    const pool = vm.pool;
    // The sender's frame and the baseline's read target live in pool buffers: their
    // addresses stay valid as long as the engine does (a small Uint8Array kept only as a
    // number would be collected, and the kernel would then write into freed memory).
    const sourceBuffer = pool.fromBytes(frame);
    const scratch = new Uint32Array(READ_IOVECS);
    pool.alloc(scratch, 0, READ_IOVECS);
    const target = device.queues.base + pool.current[scratch[0]];
    // The readv baseline's iovecs over the scratch buffers (an ArrayBuffer's bytes never move).
    const iov = new Uint32Array(new ArrayBuffer(16 * READ_IOVECS));
    scratch.forEach((bi, j) => {
      const address = device.queues.base + pool.current[bi];
      iov[4 * j] = address >>> 0;
      iov[4 * j + 1] = Math.floor(address / 2 ** 32);
      iov[4 * j + 2] = pool.dataSize;
    });
    const iovAddress = lib.addressOf(new Uint8Array(iov.buffer));
    const source = device.queues.base + pool.current[sourceBuffer];
    const input = inputCall(vm.node(node)!);
    const slot = device.queues.slotOf[device.sw];
    const queueFd = device.queues.fd[slot];
    const send = (vector: number): void => {
      for (let i = 0; i < vector; i++) lib.write(fd, source, frame.length);
    };
    // Whatever the kernel sent on bring-up is read and freed first.
    const nodeReads = (vector: number): number => {
      let got = 0;
      for (let tries = 0; got < vector && tries < 64; tries++) {
        device.queues.pending[slot] = 1;
        const n = input.call();
        pool.free(input.buffers, 0, n);
        got += n;
      }
      return got;
    };
    nodeReads(FRAME_SIZE);
    const cases: BenchCase[] = [];
    for (const vector of VECTOR_SIZES) {
      cases.push({
        name: `${node}, 64 B frames, kernel sender`,
        vector,
        packets: vector,
        run: () => {
          send(vector);
          return nodeReads(vector);
        },
        note: 'incl. the sender write(2) per frame',
      });
    }
    // The baselines: the same sender, and one system call per frame in place of the node.
    const baseline = (name: string, note: string, readOne: () => number): void => {
      for (const vector of VECTOR_SIZES) {
        cases.push({
          name: `${node} baseline: ${name}`,
          vector,
          packets: vector,
          run: () => {
            send(vector);
            let got = 0;
            for (let tries = 0; got < vector && tries < 4 * vector; tries++) if (readOne() > 0) got++;
            return got;
          },
          note,
        });
      }
    };
    baseline('bare readv(2) loop', `same sender, no node: readv(2) into ${READ_IOVECS} buffers as the node reads`, () => lib.readv(queueFd, iovAddress, READ_IOVECS));
    baseline('bare read(2) loop', 'same sender, no node: read(2) into one buffer', () => lib.read(queueFd, target, pool.dataSize));
    return cases;
  });
}
