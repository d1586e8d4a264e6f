// The timer wheel against a naive model (a list of deadlines), plus the properties the
// engine and TCP rely on: stale handles are harmless, the pool drains to zero, and
// nextExpiryMs never promises later than the first timer really fires.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TimerWheel, TimerError } from '../../src/vlib/timer-wheel.ts';

type Operation =
  | { kind: 'start'; delay: number }
  | { kind: 'stop'; pick: number }
  | { kind: 'update'; pick: number; delay: number }
  | { kind: 'advance'; step: number };

const delayArbitrary = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 300 }) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 70_000 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 2 ** 31 }) },
  // Past one 2^32-tick block: the overflow list.
  { weight: 1, arbitrary: fc.integer({ min: 2 ** 31, max: 2 ** 34 }) },
);

const stepArbitrary = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 0, max: 5 }) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 1000 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 300_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 ** 33 }) },
);

const operationArbitrary: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('start' as const), delay: delayArbitrary }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('stop' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('update' as const), pick: fc.nat(), delay: delayArbitrary }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), step: stepArbitrary }) },
);

/** Start times near the interesting boundaries of the wheel's blocks, and anywhere. */
const startTimeArbitrary = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 2 ** 32 - 300, max: 2 ** 32 }),
  fc.integer({ min: 2 ** 24 - 300, max: 2 ** 24 }),
  fc.integer({ min: 0, max: 2 ** 45 }),
);

interface ModelTimer {
  handle: number;
  expiry: number;
}

test('timer wheel matches a naive model under random start/stop/update/advance (tickMs 1)', () => {
  fc.assert(
    fc.property(startTimeArbitrary, fc.array(operationArbitrary, { maxLength: 200, size: 'max' }), (startTime, operations) => {
      const wheel = new TimerWheel({ now: startTime, capacity: 4 });
      let now = startTime;
      // userHandle → running timer. With tickMs 1 and whole-ms times, a timer started at
      // `now` for `delay` expires at now + max(delay, 1): a 0 delay waits for the next tick.
      const model = new Map<number, ModelTimer>();
      const issuedHandles: number[] = [];
      let nextUser = 1;
      const startOne = (delay: number) => {
        const user = nextUser++;
        const handle = wheel.start(delay, user);
        assert.ok(handle > 0 && Number.isInteger(handle));
        model.set(user, { handle, expiry: now + Math.max(delay, 1) });
        issuedHandles.push(handle);
      };
      const userOfHandle = (handle: number): number | undefined => {
        for (const [user, timer] of model) if (timer.handle === handle) return user;
        return undefined;
      };
      const checkNextExpiry = () => {
        let earliest = Infinity;
        for (const timer of model.values()) earliest = Math.min(earliest, timer.expiry);
        assert.equal(wheel.nextExpiryMs(), earliest);
        assert.equal(wheel.size, model.size);
      };

      for (const op of operations) {
        if (op.kind === 'start') {
          startOne(op.delay);
        } else if (op.kind === 'stop' || op.kind === 'update') {
          if (issuedHandles.length === 0) continue;
          // Any handle ever issued: running, fired, stopped, or reused since.
          const handle = issuedHandles[op.pick % issuedHandles.length];
          const user = userOfHandle(handle);
          if (op.kind === 'stop') {
            assert.equal(wheel.stop(handle), user !== undefined);
            if (user !== undefined) model.delete(user);
          } else {
            assert.equal(wheel.update(handle, op.delay), user !== undefined);
            if (user !== undefined) model.get(user)!.expiry = now + Math.max(op.delay, 1);
          }
        } else {
          now += op.step;
          const fired: number[] = [];
          const count = wheel.advance(now, (user) => {
            const timer = model.get(user);
            assert.ok(timer !== undefined, `fired user ${user} is not running`);
            assert.ok(timer.expiry <= now, `fired early: expiry ${timer.expiry} > now ${now}`);
            if (fired.length > 0) {
              const previous = fired[fired.length - 1];
              assert.ok(previous <= timer.expiry, `out of order: ${previous} then ${timer.expiry}`);
            }
            fired.push(timer.expiry);
            model.delete(user);
            // Callbacks act on the wheel too: restart with delay 0 (must wait for a later
            // advance), and stop the next user's timer, which may be due in this very tick.
            if (user % 4 === 0) startOne(user % 3);
            if (user % 7 === 3) {
              const other = model.get(user + 1);
              if (other !== undefined) {
                assert.equal(wheel.stop(other.handle), true);
                model.delete(user + 1);
              }
            }
          });
          assert.equal(count, fired.length);
          for (const [user, timer] of model) {
            assert.ok(timer.expiry > now, `user ${user} due at ${timer.expiry} missed by advance(${now})`);
          }
        }
        checkNextExpiry();
      }
      // Drain: everything fires once time passes the last expiry.
      let last = now;
      for (const timer of model.values()) last = Math.max(last, timer.expiry);
      let drained = 0;
      wheel.advance(last, () => drained++);
      assert.equal(drained, model.size);
      assert.equal(wheel.size, 0);
      assert.equal(wheel.nextExpiryMs(), Infinity);
    }),
    { numRuns: 1000 },
  );
});

test('with tickMs 10, timers fire on the first advance at or past their tick, never early', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ delay: fc.double({ min: 0, max: 5000, noNaN: true }), at: fc.double({ min: 0, max: 100, noNaN: true }) }), { maxLength: 30 }),
      fc.array(fc.double({ min: 0, max: 400, noNaN: true }), { maxLength: 40 }),
      (starts, steps) => {
        const tickMs = 10;
        const wheel = new TimerWheel({ tickMs, now: 3.5 });
        const deadlines = new Map<number, number>();
        let now = 3.5;
        starts.forEach((s, user) => {
          wheel.start(s.delay, user);
          deadlines.set(user, 3.5 + s.delay);
        });
        for (const step of [...steps, 10_000]) {
          const expectedMs = wheel.nextExpiryMs();
          const before = now;
          now += step;
          wheel.advance(now, (user) => {
            const deadline = deadlines.get(user)!;
            assert.ok(deadline <= now, 'never early');
            // At most one tick late: it was not yet due at the previous advance's tick.
            assert.ok(Math.ceil(deadline / tickMs) > Math.floor(before / tickMs));
            assert.ok(expectedMs <= now, 'nextExpiryMs is never later than a firing');
            deadlines.delete(user);
          });
          for (const deadline of deadlines.values()) assert.ok(Math.ceil(deadline / tickMs) > Math.floor(now / tickMs));
        }
        assert.equal(wheel.size, 0);
      },
    ),
  );
});

test('nextExpiryMs is exactly the earliest time at which advance fires something', () => {
  fc.assert(
    fc.property(fc.array(delayArbitrary, { minLength: 1, maxLength: 40 }), fc.integer({ min: 0, max: 2 ** 40 }), (delays, startTime) => {
      const wheel = new TimerWheel({ now: startTime });
      for (let i = 0; i < delays.length; i++) wheel.start(delays[i], i);
      const at = wheel.nextExpiryMs();
      assert.equal(at, startTime + Math.max(Math.min(...delays), 1));
      assert.equal(wheel.advance(at - 1, () => {}), 0);
      assert.ok(wheel.advance(at, () => {}) >= 1);
    }),
  );
});

test('stopping a stale handle is harmless, even once its slot is reused', () => {
  const wheel = new TimerWheel();
  const first = wheel.start(10, 1);
  assert.equal(wheel.stop(first), true);
  assert.equal(wheel.stop(first), false);
  const second = wheel.start(10, 2); // reuses the pool entry
  assert.notEqual(second, first);
  assert.equal(wheel.stop(first), false);
  assert.equal(wheel.update(first, 50), false);
  assert.equal(wheel.isActive(second), true);
  const fired: number[] = [];
  wheel.advance(9, (user) => fired.push(user));
  assert.equal(fired.length, 0);
  wheel.advance(10, (user) => fired.push(user));
  assert.deepEqual(fired, [2]);
  assert.equal(wheel.stop(second), false, 'a fired handle is stale');
  for (const junk of [0, -1, 2 ** 31, 0.5, NaN, 123456789]) assert.equal(wheel.stop(junk), false);
  assert.equal(wheel.size, 0);
});

test('100 000 timers started and stopped leave size 0 and a reusable pool', () => {
  const wheel = new TimerWheel({ now: 1000 });
  const handles = new Int32Array(100_000);
  for (let i = 0; i < handles.length; i++) handles[i] = wheel.start((i * 7919) % 3_000_000, i);
  assert.equal(wheel.size, 100_000);
  assert.equal(new Set(handles).size, 100_000, 'handles are distinct');
  for (let i = 0; i < handles.length; i += 2) wheel.stop(handles[i]);
  for (let i = 1; i < handles.length; i += 2) wheel.stop(handles[i]);
  assert.equal(wheel.size, 0);
  assert.equal(wheel.nextExpiryMs(), Infinity);
  let fired = 0;
  assert.equal(wheel.advance(1000 + 2 ** 33, () => fired++), 0);
  assert.equal(fired, 0);
  // Started again and let run to the end: all fire once.
  for (let i = 0; i < 100_000; i++) wheel.start(i % 5000, i);
  assert.equal(wheel.advance(1000 + 2 ** 33 + 5000, () => fired++), 100_000);
  assert.equal(wheel.size, 0);
});

test('a long delay fires at its time after jumps across levels and the overflow list', () => {
  const wheel = new TimerWheel({ now: 5 });
  const delays = [0, 1, 255, 256, 65_535, 65_536, 2 ** 24, 2 ** 31, 2 ** 32, 2 ** 32 + 7, 2 ** 40];
  delays.forEach((delay, user) => wheel.start(delay, user));
  const firedAt: number[] = [];
  let now = 5;
  // Big jumps that stop one ms short of each expiry, then land on it.
  for (const delay of delays) {
    const due = 5 + Math.max(delay, 1);
    if (due - 1 > now) {
      now = due - 1;
      assert.equal(wheel.advance(now, () => assert.fail('fired early')), 0);
    }
    now = due;
    wheel.advance(now, (user) => (firedAt[user] = now));
  }
  assert.deepEqual(firedAt, delays.map((delay) => 5 + Math.max(delay, 1)));
});

test('a delay-0 timer restarted from its own callback fires once per advance, not in a loop', () => {
  const wheel = new TimerWheel();
  let calls = 0;
  wheel.start(0, 7);
  const restart = (user: number) => {
    calls++;
    wheel.start(0, user);
  };
  assert.equal(wheel.advance(100, restart), 1);
  assert.equal(wheel.advance(100, restart), 0, 'same time: not due yet');
  assert.equal(wheel.advance(101, restart), 1);
  assert.equal(calls, 2);
  assert.equal(wheel.size, 1);
});

test('bad input is a typed error', () => {
  const wheel = new TimerWheel();
  for (const delay of [-1, NaN, Infinity, 2 ** 49]) {
    assert.throws(() => wheel.start(delay, 1), (e: unknown) => e instanceof TimerError && e.code === 'EINVAL');
  }
  assert.throws(() => new TimerWheel({ tickMs: 0 }), (e: unknown) => e instanceof TimerError && e.code === 'EINVAL');
  assert.throws(() => wheel.advance(Infinity, () => {}), (e: unknown) => e instanceof TimerError && e.code === 'EINVAL');
  wheel.start(1, 1);
  assert.throws(
    () => wheel.advance(5, () => wheel.advance(6, () => {})),
    (e: unknown) => e instanceof TimerError && e.code === 'EBUSY',
  );
});

test('a throwing callback leaves the other due timers due', () => {
  const wheel = new TimerWheel();
  wheel.start(5, 1);
  wheel.start(5, 2);
  wheel.start(6, 3);
  const seen: number[] = [];
  assert.throws(() =>
    wheel.advance(10, (user) => {
      seen.push(user);
      if (user === 1) throw new Error('boom');
    }),
  );
  assert.equal(wheel.size, 2);
  assert.equal(wheel.nextExpiryMs(), 5);
  wheel.advance(10, (user) => seen.push(user));
  assert.deepEqual(seen, [1, 2, 3]);
});
