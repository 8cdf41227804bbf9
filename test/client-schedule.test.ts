// The output page's frame schedule (pure logic): what a 60 Hz display shows of frames arriving at 15 fps.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameSchedule, type ScheduleOptions } from '../client/src/output/schedule.ts';
import { rng } from '../core/random.ts';

/** The server's clock runs this far ahead of the page's (epoch vs performance.now()). */
const CLOCK = 1.7e12;
const VSYNC = 1000 / 60;

interface SimFrame {
  seq: number;
  capture: number;
  ready: number;
}

/** Frames made every `intervalMs` (server clock), ready on the page after `transit(k)` ms. */
function frames(count: number, intervalMs: number, transit: (k: number) => number, firstSeq = 1): SimFrame[] {
  const out: SimFrame[] = [];
  for (let k = 0; k < count; k++) {
    const capture = CLOCK + 500 + k * intervalMs;
    out.push({ seq: firstSeq + k, capture, ready: capture - CLOCK + transit(k) });
  }
  // Transits vary, but a socket delivers in order: a frame is never ready before the one sent before it.
  for (let k = 1; k < out.length; k++) out[k]!.ready = Math.max(out[k]!.ready, out[k - 1]!.ready);
  return out;
}

interface Shown {
  now: number;
  /** The blended capture time displayed: a + t × (b − a). */
  position: number;
  a: number;
  b: number;
  t: number;
  changed: boolean;
}

/** Plays `input` into a schedule and picks at every vsync until `untilMs`. */
function play(input: SimFrame[], untilMs: number, blend = true, options: Partial<ScheduleOptions> = {}) {
  const released: number[] = [];
  const s = new FrameSchedule<number>((seq) => released.push(seq), { timeOrigin: CLOCK, ...options });
  s.expectFps(15);
  const shown: Shown[] = [];
  let next = 0;
  let maxSize = 0;
  for (let now = 0; now < untilMs; now += VSYNC) {
    while (next < input.length && input[next]!.ready <= now) {
      const f = input[next++]!;
      s.push(f.seq, f.capture, f.ready, f.ready, f.seq);
      maxSize = Math.max(maxSize, s.size);
    }
    const p = s.pick(now, blend);
    if (p) shown.push({ now, position: p.a.captureTime + p.t * (p.b.captureTime - p.a.captureTime), a: p.a.seq, b: p.b.seq, t: p.t, changed: p.changed });
  }
  return { s, shown, released, maxSize };
}

describe('output frame schedule', () => {
  it('steady 15 fps on a 60 Hz display: monotone, evenly spaced blend positions', () => {
    const r = rng(1);
    // 10 s, so the first frames' cautious start (the delay before any jitter is known) is under 5 % of the delays.
    const { s, shown } = play(frames(150, 1000 / 15, () => 8 + r() * 2), 10000);
    const steady = shown.filter((x) => x.now > 1000 && x.now < 9500);
    assert.ok(steady.length > 100, `${steady.length} picks in the steady part`);
    const steps = steady.slice(1).map((x, i) => x.position - steady[i]!.position);
    for (const [i, d] of steps.entries()) {
      // One vsync of capture time per vsync, give or take the slew while the delay settles (±5 %).
      assert.ok(d >= VSYNC * 0.94 && d <= VSYNC * 1.06, `pick ${i}: the position moved ${d.toFixed(2)} ms in a ${VSYNC.toFixed(2)} ms vsync`);
    }
    const blended = steady.filter((x) => x.t > 0 && x.t < 1 && x.a !== x.b).length;
    assert.ok(blended > steady.length * 0.6, `only ${blended} of ${steady.length} picks blend two frames`);
    assert.ok(steady.every((x) => x.changed), 'every vsync shows a new picture');
    const st = s.stats(shown.at(-1)!.now);
    assert.ok(st.displayFps > 55 && st.displayFps < 65, `displayed ${st.displayFps.toFixed(1)} pictures/s`);
    assert.ok(st.receivedFps > 13 && st.receivedFps < 17, `received ${st.receivedFps.toFixed(1)} frames/s`);
    assert.ok(Math.abs(st.frameIntervalMs - 1000 / 15) < 1, `interval ${st.frameIntervalMs.toFixed(1)} ms`);
    // Delay = transit (8–10 ms) + playout (one interval + jitter + margin), shown when its weight first leaves 0.
    assert.ok(st.delayP50Ms > 66 && st.delayP50Ms < 110, `capture→display p50 ${st.delayP50Ms.toFixed(1)} ms`);
    assert.ok(st.delayP95Ms >= st.delayP50Ms && st.delayP95Ms < 130, `capture→display p95 ${st.delayP95Ms.toFixed(1)} ms`);
    assert.ok(st.framesReceived - st.framesShown <= 2, `${st.framesReceived} received but ${st.framesShown} shown: frames were skipped`);
  });

  it('jitter does not make the picture jump backwards, and few frames are held', () => {
    const r = rng(7);
    // 0–40 ms of jitter, and now and then a 90 ms stall (a GC pause, a Wi-Fi retry).
    const input = frames(150, 1000 / 15, (k) => 5 + r() * 40 + (k % 23 === 0 ? 90 : 0));
    const { shown } = play(input, 10500);
    for (let i = 1; i < shown.length; i++) {
      assert.ok(shown[i]!.position >= shown[i - 1]!.position, `at ${shown[i]!.now.toFixed(0)} ms the position went back from ${shown[i - 1]!.position} to ${shown[i]!.position}`);
    }
    const steady = shown.filter((x) => x.now > 2000);
    const frozen = steady.filter((x, i) => i > 0 && x.position === steady[i - 1]!.position).length;
    assert.ok(frozen < steady.length * 0.05, `${frozen} of ${steady.length} vsyncs repeated the previous picture`);
  });

  it('a faster network later (the clock mapping moves) slews the playout instead of jumping', () => {
    // 60 ms transits for 3 s, then 5 ms: the minimum drops, the latency goal drops by 55 ms.
    const input = frames(120, 1000 / 15, (k) => (k < 45 ? 60 : 5));
    const { shown } = play(input, 7500);
    const steps = shown.filter((x) => x.now > 1000).map((x, i, a) => (i === 0 ? VSYNC : x.position - a[i - 1]!.position));
    const max = Math.max(...steps);
    const min = Math.min(...steps);
    assert.ok(min >= 0, `the position went back by ${-min} ms`);
    assert.ok(max <= VSYNC * 1.06, `a step of ${max.toFixed(2)} ms: the latency change jumped instead of slewing`);
  });

  it('blend off shows the newest frame as soon as it is there', () => {
    const input = frames(30, 1000 / 15, () => 8);
    const released: number[] = [];
    const s = new FrameSchedule<number>((x) => released.push(x), { timeOrigin: CLOCK });
    for (const f of input) {
      s.push(f.seq, f.capture, f.ready, f.ready, f.seq);
      const p = s.pick(f.ready, false)!;
      assert.deepEqual([p.a.seq, p.b.seq, p.t], [f.seq, f.seq, 1], `frame ${f.seq}: shown ${p.a.seq}/${p.b.seq} t ${p.t}`);
    }
    assert.ok(s.stats(input.at(-1)!.ready).delayP95Ms <= 8.001, 'the delay is the transit alone');
    // Turning blend back on never goes back to older frames than the one shown.
    const p = s.pick(input.at(-1)!.ready + 1, true)!;
    assert.equal(p.b.seq, input.at(-1)!.seq);
  });

  it('a single frame is shown alone, and nothing before the first frame', () => {
    const s = new FrameSchedule<number>(() => undefined);
    assert.equal(s.pick(0, true), null);
    s.push(1, CLOCK, 10, 10, 1);
    const p = s.pick(11, true)!;
    assert.deepEqual([p.a.seq, p.b.seq, p.t], [1, 1, 1]);
  });

  it('holds a bounded number of frames and releases every other one', () => {
    const input = frames(5000, 1000 / 30, () => 3);
    const { s, released, maxSize } = play(input, 5000 * (1000 / 30) + 500, true, { capacity: 4 });
    assert.ok(maxSize <= 4, `${maxSize} frames held`);
    assert.equal(released.length + s.size, input.length, 'every frame not held was released exactly once');
    assert.equal(new Set(released).size, released.length, 'no frame released twice');
  });

  it('a restarted server (sequence going back) resets: old frames released, new ones shown', () => {
    const old = frames(40, 1000 / 15, () => 6);
    const released: number[] = [];
    const s = new FrameSchedule<number>((x) => released.push(x), { timeOrigin: CLOCK });
    let now = 0;
    for (const f of old) {
      s.push(f.seq, f.capture, f.ready, f.ready, f.seq);
      now = f.ready;
      s.pick(now, true);
    }
    const heldBefore = s.size;
    // The new server numbers from 1 again, and its clock reading is later.
    const base = old.at(-1)!.capture + 3000;
    now += 3000;
    s.push(1, base, now, now, 1001);
    assert.equal(released.length, old.length, `${released.length} of ${old.length} old frames released (${heldBefore} were held)`);
    assert.equal(s.size, 1);
    let p = s.pick(now + 1, true)!;
    assert.equal(p.b.item, 1001, 'the new server’s frame is shown at once, not after the old playout position');
    for (let k = 1; k < 10; k++) s.push(1 + k, base + k * 66.7, now + k * 66.7, now + k * 66.7, 1001 + k);
    p = s.pick(now + 700, true)!;
    assert.ok(p.b.item > 1001, 'the new frames play');
    const st = s.stats(now + 700);
    assert.equal(st.resets, 1);
    assert.ok(st.lastShownSeq < 20, `lastShownSeq ${st.lastShownSeq} is from the new server`);
  });

  it('an explicit reset (a new welcome) releases everything', () => {
    const released: number[] = [];
    const s = new FrameSchedule<number>((x) => released.push(x));
    for (let k = 1; k <= 3; k++) s.push(k, CLOCK + k * 50, k * 50, k * 50, k);
    s.reset();
    assert.deepEqual(released.sort(), [1, 2, 3]);
    assert.equal(s.pick(1000, true), null);
  });
});
