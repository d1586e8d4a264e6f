// interface-output and `<if>-output`: routing by txInterface, tx counters, admin-down
// drops, the interface-output feature arc, and buffer accounting for bad tx interfaces.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createEngine, type Engine } from '../../src/index.ts';
import { InterfaceCounter } from '../../src/vnet/interface.ts';
import { inject, udpFrame } from './l2-helpers.ts';
import { BUFFER_DATA_SIZE, lengthIn } from '../arbitraries.ts';

function setup(): { vm: Engine; pg0: number; pg1: number } {
  const vm = createEngine();
  vm.cli('create packet-generator interface pg0');
  vm.cli('create packet-generator interface pg1');
  vm.cli('set interface state pg0 up');
  vm.cli('set interface state pg1 up');
  return { vm, pg0: vm.vnet.interfaces.find('pg0'), pg1: vm.vnet.interfaces.find('pg1') };
}

function send(vm: Engine, tx: readonly number[], size = 64): void {
  const bis = inject(vm, 'interface-output', 0, tx.map(() => udpFrame('02:00:00:00:00:02', '02:fe:00:00:00:01', '10.0.0.1', '10.0.0.2', size)));
  bis.forEach((bi, i) => (vm.pool.txInterface[bi] = tx[i]));
  vm.runUntilIdle();
}

test('interface-output: each packet goes to the output node of its txInterface, counted there', () => {
  const { vm, pg0, pg1 } = setup();
  const free0 = vm.pool.available;
  send(vm, [pg0, pg1, pg1, pg0, pg1]);
  const ifs = vm.vnet.interfaces;
  assert.equal(ifs.counter(pg0, InterfaceCounter.TX_PACKETS), 2);
  assert.equal(ifs.counter(pg1, InterfaceCounter.TX_PACKETS), 3);
  assert.equal(ifs.counter(pg1, InterfaceCounter.TX_BYTES), 3 * 64);
  assert.equal(vm.node('pg0-tx')!.vectors, 2);
  assert.equal(vm.node('pg1-tx')!.vectors, 3);
  assert.equal(vm.pool.available, free0);
  assert.match(vm.cli('show node interface-output'), /pg0-output/);
});

test('interface-output: a txInterface that names no interface is dropped and counted', () => {
  const { vm, pg0 } = setup();
  const free0 = vm.pool.available;
  send(vm, [0, 77, 0xffffffff, pg0]);
  assert.equal(vm.errorCounter('interface-output', 'no such tx interface'), 3);
  assert.equal(vm.pool.available, free0);
});

test('<if>-output: an admin-down interface drops what is sent on it ("interface is down")', () => {
  const { vm, pg1 } = setup();
  vm.cli('set interface state pg1 down');
  send(vm, [pg1, pg1]);
  assert.equal(vm.errorCounter('pg1-output', 'interface is down'), 2);
  assert.equal(vm.vnet.interfaces.counter(pg1, InterfaceCounter.TX_PACKETS), 0);
  assert.equal(vm.node('pg1-tx')!.vectors, 0);
  assert.match(vm.cli('show errors'), /2\s+pg1-output\s+interface is down/);
});

test('<if>-output: the interface-output feature arc runs between output and tx when enabled', () => {
  const { vm, pg1 } = setup();
  let seen = 0;
  vm.registerNode({
    name: 'test-output-feature',
    process(ctx, b, n, nexts) {
      seen += n;
      for (let i = 0; i < n; i++) nexts[i] = ctx.featureNext(b[i]);
      return n;
    },
  });
  vm.features.registerFeature({ arc: 'interface-output', node: 'test-output-feature' });
  vm.features.enable('interface-output', 'test-output-feature', pg1, true);
  send(vm, [pg1, pg1, pg1]);
  assert.equal(seen, 3);
  assert.equal(vm.node('pg1-tx')!.vectors, 3);
  vm.features.enable('interface-output', 'test-output-feature', pg1, false);
  send(vm, [pg1]);
  assert.equal(seen, 3);
  assert.equal(vm.node('pg1-tx')!.vectors, 4);
});

test('interface-output: random tx interfaces never leak a buffer; tx bytes count whole chains', () => {
  const { vm, pg0, pg1 } = setup();
  const free0 = vm.pool.available;
  const ifs = vm.vnet.interfaces;
  const txBytes = (): number => ifs.counter(pg0, InterfaceCounter.TX_BYTES) + ifs.counter(pg1, InterfaceCounter.TX_BYTES);
  fc.assert(
    // Up to 300 packets (more than a vector; size 'max', as fast-check's default would stop near 12),
    // of one size per run, chained past one buffer.
    fc.property(fc.array(fc.constantFrom(0, pg0, pg1, 3, 4095, 4096, 0xffffffff), { minLength: 1, maxLength: 300, size: 'max' }), lengthIn(64, 9000, [BUFFER_DATA_SIZE]), (tx, size) => {
      const t0 = vm.node('pg0-tx')!.vectors + vm.node('pg1-tx')!.vectors;
      const e0 = vm.errorCounter('interface-output', 'no such tx interface');
      const bytes0 = txBytes();
      send(vm, tx, size);
      const sent = vm.node('pg0-tx')!.vectors + vm.node('pg1-tx')!.vectors - t0;
      const dropped = vm.errorCounter('interface-output', 'no such tx interface') - e0;
      assert.equal(sent + dropped, tx.length);
      assert.equal(txBytes() - bytes0, sent * size);
      assert.equal(vm.pool.available, free0);
    }),
    { numRuns: 30 },
  );
});
