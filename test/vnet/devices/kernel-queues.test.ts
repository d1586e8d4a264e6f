// The kernel-fd receive path (src/vnet/devices/kernel-queues.ts) without root or a kernel:
// the tap device class's queues are given a stand-in for the system calls whose readv(2)
// copies queued frames into the iovecs it is handed and cuts what does not fit, as a tap
// or a packet socket does. Checked through the real tap-input node: a frame of any size up
// to what the read buffers hold arrives whole (chained past one buffer), a larger one is
// dropped as "frame too long" (show errors, the interface's drops), a pool too low for a
// large frame drops it as "no free buffers", an empty pool leaves frames in the kernel
// until buffers come back, and every buffer is accounted for. On transmit, a chained packet
// leaves whole in one writev(2); a chain longer than the write iovecs is a counted tx error.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createEngine, type Engine } from '../../../src/index.ts';
import { BufferFlag, NONE } from '../../../src/vlib/buffer-pool.ts';
import { kernelTx, KernelQueues, READ_IOVECS, WRITE_IOVECS, type FdWatch } from '../../../src/vnet/devices/kernel-queues.ts';
import { Linux, type Libc } from '../../../src/vnet/devices/linux.ts';
import { InterfaceCounter } from '../../../src/vnet/interface.ts';
import { bytesOfLength } from '../../arbitraries.ts';
import { drainInputNode } from '../../nodes/kernel-input-helpers.ts';

/** Where the stand-in says the pool and the iovec array live: above 4 GiB, so both address words count. */
const POOL_ADDRESS = 0x7f12_3456_0000;
const IOV_ADDRESS = 0x7f00_0000_1000;
const FD = 42;

/** A kernel that holds frames for one fd and hands each to one readv, as much of it as fits; and keeps what is written. */
class FakeKernel {
  readonly frames: Uint8Array[] = [];
  readonly written: Uint8Array[] = [];
  reads = 0;
  private lastErrno = 0;
  /** The iovec arrays the queues took addresses of (the read one at IOV_ADDRESS, then the write one). */
  private readonly iovAt = new Map<number, Uint32Array>();

  constructor(private readonly vm: Engine) {}

  readonly lib = {
    addressOf: (bytes: Uint8Array): number => {
      if (bytes.buffer === this.vm.pool.memory) return POOL_ADDRESS;
      const address = IOV_ADDRESS + 0x1000 * this.iovAt.size;
      this.iovAt.set(address, new Uint32Array(bytes.buffer));
      return address;
    },
    readv: (fd: number, iovAddress: number, count: number): number => {
      assert.equal(fd, FD);
      assert.equal(iovAddress, IOV_ADDRESS);
      assert.ok(count >= 1 && count <= READ_IOVECS, `iovec count ${count}`);
      this.reads++;
      const frame = this.frames.shift();
      if (frame === undefined) {
        this.lastErrno = Linux.EAGAIN;
        return -1;
      }
      const bytes = this.vm.pool.bytes;
      const iov = this.iovAt.get(iovAddress)!;
      let done = 0;
      for (let j = 0; j < count && done < frame.length; j++) {
        const base = iov[4 * j] + iov[4 * j + 1] * 2 ** 32 - POOL_ADDRESS;
        const room = iov[4 * j + 2];
        assert.ok(base >= 0 && base + room <= bytes.length, `iovec ${j} points outside the pool`);
        const take = Math.min(room, frame.length - done);
        bytes.set(frame.subarray(done, done + take), base);
        done += take;
      }
      return done;
    },
    write: (fd: number, address: number, count: number): number => {
      assert.equal(fd, FD);
      this.written.push(this.vm.pool.bytes.slice(address - POOL_ADDRESS, address - POOL_ADDRESS + count));
      return count;
    },
    writev: (fd: number, iovAddress: number, count: number): number => {
      assert.equal(fd, FD);
      assert.ok(count >= 1 && count <= WRITE_IOVECS, `iovec count ${count}`);
      const iov = this.iovAt.get(iovAddress)!;
      const parts: number[] = [];
      for (let j = 0; j < count; j++) {
        const at = iov[4 * j] + iov[4 * j + 1] * 2 ** 32 - POOL_ADDRESS;
        parts.push(...this.vm.pool.bytes.subarray(at, at + iov[4 * j + 2]));
      }
      this.written.push(Uint8Array.from(parts));
      return parts.length;
    },
    errno: (): number => this.lastErrno,
    close: (): number => 0,
  } as unknown as Libc;
}

interface Setup {
  vm: Engine;
  kernel: FakeKernel;
  queues: KernelQueues;
  sw: number;
}

function setup(buffers = 1024): Setup {
  const vm = createEngine({ buffers });
  const kernel = new FakeKernel(vm);
  const watch: FdWatch = { add: () => {}, remove: () => {}, arm: () => {} };
  const queues = new KernelQueues(vm, 'tap-input', () => watch, () => kernel.lib);
  // The tap device class reads through these queues from now on (tap-input takes them from here).
  Object.assign(vm.vnet.devices.taps, { queues });
  const deviceClass = { ...vm.vnet.devices.taps.deviceClass, tx: kernelTx(queues) };
  const sw = vm.vnet.interfaces.create('tap0', deviceClass, Uint8Array.of(2, 0xfe, 0, 0, 0, 1), 1500);
  queues.open(sw, FD);
  return { vm, kernel, queues, sw };
}

/** Calls tap-input's process until it reads nothing, its queue marked as holding frames before each call. */
function drain(s: Setup): { buffers: number[]; nexts: string[] } {
  return drainInputNode(s.vm, 'tap-input', () => (s.queues.pending[s.queues.slotOf[s.sw]] = 1));
}

/** Buffers in the chain that starts at `bi`. */
function chainLength(s: Setup, bi: number): number {
  let count = 1;
  while (s.vm.pool.flags[bi] & BufferFlag.NEXT_PRESENT) {
    bi = s.vm.pool.nextBuffer[bi];
    count++;
  }
  return count;
}

test('kernel queues: frames of any size up to the read buffers arrive whole, larger ones are dropped as "frame too long"', () => {
  const s = setup();
  const { vm, queues } = s;
  const dataSize = vm.pool.dataSize;
  const capacity = queues.readIovecs * dataSize;
  assert.equal(queues.readIovecs, READ_IOVECS);
  const rt = vm.node('tap-input')!;
  const tooLong = rt.errorCode(rt.errorNames.indexOf('frame too long'));
  const frames = fc.array(bytesOfLength(1, capacity + 3000, [dataSize, 2 * dataSize, capacity]), { minLength: 1, maxLength: 12, size: 'max' });
  fc.assert(
    fc.property(frames, (sent) => {
      const ifs = vm.vnet.interfaces;
      const rx0 = ifs.counter(s.sw, InterfaceCounter.RX_PACKETS);
      const bytes0 = ifs.counter(s.sw, InterfaceCounter.RX_BYTES);
      const errors0 = rt.errors.slice();
      s.kernel.frames.push(...sent);
      const out = drain(s);
      assert.equal(out.buffers.length, sent.length, 'one packet per frame, in order');
      for (let i = 0; i < sent.length; i++) {
        const bi = out.buffers[i];
        assert.equal(vm.pool.rxInterface[bi], s.sw);
        assert.equal(vm.pool.txInterface[bi], NONE);
        assert.equal(vm.pool.current[bi], vm.pool.dataStart(bi), 'current at the Ethernet header');
        if (sent[i].length < capacity) {
          assert.equal(out.nexts[i], 'ethernet-input');
          assert.deepEqual(vm.pool.toBytes(bi), sent[i]);
          assert.equal(chainLength(s, bi), Math.max(1, Math.ceil(sent[i].length / dataSize)));
        } else {
          assert.equal(out.nexts[i], 'error-drop');
          assert.equal(vm.pool.error[bi], tooLong);
          assert.equal(vm.pool.packetLength(bi), capacity, 'what the kernel handed over');
        }
      }
      const long = sent.filter((f) => f.length >= capacity).length;
      assert.equal(rt.errors[rt.errorNames.indexOf('frame too long')] - errors0[rt.errorNames.indexOf('frame too long')], long);
      assert.equal(rt.errors[rt.errorNames.indexOf('no free buffers')], errors0[rt.errorNames.indexOf('no free buffers')]);
      assert.equal(ifs.counter(s.sw, InterfaceCounter.RX_PACKETS), rx0 + sent.length);
      assert.equal(ifs.counter(s.sw, InterfaceCounter.RX_BYTES), bytes0 + sent.reduce((n, f) => n + Math.min(f.length, capacity), 0));
      for (const bi of out.buffers) vm.pool.freeChain(bi);
      assert.equal(vm.pool.available + queues.held, vm.pool.count, 'every buffer back or held for the next read');
    }),
    { numRuns: 150 },
  );
  assert.equal(vm.pool.doubleFrees, 0);
});

test('kernel queues: through the graph, a cut frame shows in show errors and the interface drops; a jumbo frame reaches ethernet-input whole', () => {
  const s = setup();
  const { vm, sw } = s;
  vm.cli('set interface state tap0 up');
  vm.cli('set interface ip address tap0 10.200.1.1/24');
  const mac = vm.vnet.interfaces.macText(sw);
  const capacity = s.queues.readIovecs * vm.pool.dataSize;
  const frame = (length: number): Uint8Array => {
    const f = new Uint8Array(length);
    f.set(mac.split(':').map((h) => parseInt(h, 16)), 0);
    f.set([2, 0, 0, 0, 0, 2, 0x88, 0xb5], 6);
    return f;
  };
  s.kernel.frames.push(frame(capacity + 100), frame(9014), frame(capacity));
  vm.runUntilIdle();
  assert.equal(vm.errorCounter('tap-input', 'frame too long'), 2);
  assert.match(vm.cli('show errors'), /tap-input +frame too long/);
  assert.equal(vm.vnet.interfaces.counter(sw, InterfaceCounter.DROPS), 3, 'two cut frames, and the 9014-byte one of an unknown type');
  assert.equal(vm.errorCounter('ethernet-input', 'unknown ethernet type'), 1, vm.cli('show errors'));
  assert.equal(vm.pool.available + s.queues.held, vm.pool.count);
});

test('kernel queues: a pool too low for a large frame drops it as "no free buffers"; an empty one leaves frames in the kernel', () => {
  const s = setup(READ_IOVECS + 2);
  const { vm, queues } = s;
  const rt = vm.node('tap-input')!;
  const dataSize = vm.pool.dataSize;
  // Take all but three buffers: the first read can offer three, the second the two left.
  const taken = new Uint32Array(vm.pool.count);
  let got = vm.pool.alloc(taken, 0, vm.pool.available - 3);
  s.kernel.frames.push(new Uint8Array(100).fill(1), new Uint8Array(2 * dataSize + 1).fill(2));
  let out = drain(s);
  assert.deepEqual(out.nexts, ['ethernet-input', 'error-drop']);
  assert.deepEqual(vm.pool.toBytes(out.buffers[0]), new Uint8Array(100).fill(1));
  assert.equal(vm.pool.packetLength(out.buffers[1]), 2 * dataSize, 'cut to the two buffers there were');
  assert.equal(vm.pool.error[out.buffers[1]], rt.errorCode(rt.errorNames.indexOf('no free buffers')));
  assert.equal(vm.errorCounter('tap-input', 'frame too long'), 0);
  assert.equal(queues.held, 0);
  // Nothing at all to read into: the frame stays with the kernel, counted, and is read later.
  for (const bi of out.buffers) vm.pool.freeChain(bi);
  got += vm.pool.alloc(taken, got, vm.pool.available);
  const stuck = new Uint8Array(60).fill(7);
  s.kernel.frames.push(stuck);
  const reads = s.kernel.reads;
  const noBuffer = vm.errorCounter('tap-input', 'no free buffers');
  assert.equal(drain(s).buffers.length, 0);
  assert.equal(s.kernel.reads, reads, 'no read without a buffer to read into');
  assert.equal(s.kernel.frames.length, 1);
  assert.ok(vm.errorCounter('tap-input', 'no free buffers') > noBuffer);
  vm.pool.free(taken, 0, got);
  out = drain(s);
  assert.equal(out.buffers.length, 1);
  assert.deepEqual(vm.pool.toBytes(out.buffers[0]), stuck);
  vm.pool.freeChain(out.buffers[0]);
  assert.equal(vm.pool.available + queues.held, vm.pool.count);
  assert.equal(vm.pool.doubleFrees, 0);
});

test('kernel queues: a chained packet leaves whole in one writev; a chain past the write iovecs is a counted tx error', () => {
  const s = setup();
  const { vm, sw } = s;
  vm.cli('set interface state tap0 up');
  const ifs = vm.vnet.interfaces;
  fc.assert(
    fc.property(fc.array(bytesOfLength(1, 20000, [vm.pool.dataSize]), { minLength: 1, maxLength: 8, size: 'max' }), (frames) => {
      s.kernel.written.length = 0;
      vm.enqueue('tap0-tx', frames.map((f) => vm.pool.fromBytes(f)));
      vm.runUntilIdle();
      assert.deepEqual(s.kernel.written, frames);
      assert.equal(ifs.counter(sw, InterfaceCounter.TX_ERROR), 0);
      assert.equal(vm.pool.available + s.queues.held, vm.pool.count);
    }),
    { numRuns: 60 },
  );
  // A chain of WRITE_IOVECS + 1 one-byte buffers.
  const first = vm.pool.allocOne();
  vm.pool.length[first] = 1;
  let last = first;
  for (let k = 0; k < WRITE_IOVECS; k++) {
    const next = vm.pool.allocOne();
    vm.pool.length[next] = 1;
    vm.pool.appendBuffer(first, last, next);
    last = next;
  }
  s.kernel.written.length = 0;
  vm.enqueue('tap0-tx', [first]);
  vm.runUntilIdle();
  assert.equal(s.kernel.written.length, 0);
  assert.equal(ifs.counter(sw, InterfaceCounter.TX_ERROR), 1);
  assert.equal(ifs.counter(sw, InterfaceCounter.DROPS), 1);
  assert.equal(vm.pool.available + s.queues.held, vm.pool.count, 'the chain was freed');
});
