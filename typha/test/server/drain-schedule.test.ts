import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DrainSchedule, type DrainTarget } from '../../src/server/drain-schedule.js';
import type { GoodbyeHint } from '../../src/server/index.js';
import { FakeClock } from './helpers.js';

function targets(n: number, clock: FakeClock) {
  const closed: Array<{ i: number; at: number; hint: GoodbyeHint | undefined; code: number }> = [];
  const list = Array.from({ length: n }, (_, i): DrainTarget & { gone: boolean } => ({
    gone: false,
    get active() {
      return !this.gone;
    },
    goodbye(code: number, _reason: string, hint: GoodbyeHint | undefined) {
      this.gone = true;
      closed.push({ i, at: clock.now(), hint, code });
    },
  }));
  return { list, closed };
}

test('N targets are closed evenly over the duration, the first at once, the last before the end', () => {
  const clock = new FakeClock();
  const t0 = clock.now();
  const { list, closed } = targets(4, clock);
  const s = new DrainSchedule(list, { durationMs: 1000, hint: { reconnect: 'ws://b:1' }, code: 4008, reason: 'bye', drop: 'shutdown', clock });
  s.start();
  assert.deepEqual(
    closed.map((c) => c.at - t0),
    [0],
  );
  clock.advance(2000);
  assert.deepEqual(
    closed.map((c) => c.at - t0),
    [0, 250, 500, 750],
  );
  assert.deepEqual(
    closed.map((c) => c.i),
    [0, 1, 2, 3],
  );
  assert.ok(closed.every((c) => c.hint?.reconnect === 'ws://b:1' && c.hint.delayMs === 0 && c.code === 4008));
  assert.equal(s.remaining, 0);
  assert.equal(clock.pending, 0);
});

test('targets closed in one late step get reconnect delays as if each had closed on time', () => {
  const onTime = new FakeClock();
  const a = targets(5, onTime);
  new DrainSchedule(a.list, { durationMs: 500, hint: { delayMs: 1000 }, code: 4008, reason: 'bye', drop: 'shutdown', clock: onTime }).start();
  onTime.advance(500);
  assert.deepEqual(
    a.closed.map((c) => c.hint?.delayMs),
    [1000, 1000, 1000, 1000, 1000],
    'timers on time: the base delay',
  );

  // A blocked event loop: the step runs 450 ms late and closes the four targets due by then.
  const late = new FakeClock();
  const b = targets(5, late);
  const s = new DrainSchedule(b.list, { durationMs: 500, hint: { delayMs: 1000 }, code: 4008, reason: 'bye', drop: 'shutdown', clock: late });
  s.start();
  const at = late.now() + 450;
  late.now = () => at;
  s.step();
  // Due at +0, +100, +200, +300, +400; closed at +0 (start), then four at +450.
  assert.deepEqual(
    b.closed.map((c) => c.hint?.delayMs),
    [1000, 650, 750, 850, 950],
  );
  s.cancel();
});

test('targets already gone are skipped; cancel stops the schedule', () => {
  const clock = new FakeClock();
  const { list, closed } = targets(3, clock);
  list[1].gone = true;
  const s = new DrainSchedule(list, { durationMs: 300, hint: undefined, code: 4008, reason: 'bye', drop: 'shutdown', clock });
  s.start();
  clock.advance(150);
  s.cancel();
  clock.advance(1000);
  assert.deepEqual(
    closed.map((c) => c.i),
    [0],
  );
});
