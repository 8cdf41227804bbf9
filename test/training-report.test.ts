// The HTML training report of a PGGAN run folder: self-contained (no outside scripts, fonts or images), every
// sample grid inline within a byte budget, phase changes and rollbacks marked on every chart, long logs
// downsampled, text from the run escaped, damaged log lines and a run with nothing logged yet survived.
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { testPgganSettings } from './helpers/pggan.ts';
import { savedSettingsSchema, type SavedSettings } from '../trainer/pggan/settings.ts';
import { MAX_POINTS } from '../trainer/report/training-charts.ts';
import { parseTrainingLog } from '../trainer/report/log.ts';
import { openerFor, openInBrowser, renderReport, writeTrainingReport, type ReportInput } from '../trainer/report/report.ts';

const BATCH = 16;
const HOSTILE_DATA = '/data/<b>bold</b> & "quoted" <script>alert(1)</script>';

/** Settings whose schedule is `steps` steps of 16 long: 4² stable, 8² fade and stable, 16² fade and stable (×2). */
function saved(steps: number): SavedSettings {
  const part = (steps * BATCH) / 1000 / 6;
  const levels = [
    { resolution: 4, batch: BATCH, lr: 0.001, stabiliseKimg: part, transitionKimg: 0 },
    { resolution: 8, batch: BATCH, lr: 0.001, stabiliseKimg: part, transitionKimg: part },
    { resolution: 16, batch: BATCH, lr: 0.001, stabiliseKimg: 2 * part, transitionKimg: part },
  ];
  return savedSettingsSchema.parse({
    settings: testPgganSettings({
      arch: { kind: 'pggan', latentSize: 16, channels: 3, maxResolution: 16, widths: [16, 16, 16] },
      data: HOSTILE_DATA,
      levels,
      augment: ['translation'],
      mirror: true,
      metricsEveryKimg: 1,
    }),
    run: {
      // The remedy of the rollback below halved 16²'s rate.
      levels: levels.map((l) => (l.resolution === 16 ? { ...l, lr: l.lr / 2 } : l)),
      lambdaGp: 10,
      imagesShown: steps * BATCH,
      dataPos: steps * BATCH,
      adamStage: 4,
      rollbacks: 1,
      guard: { streak: 0, lastRatio: 0.8 },
    },
  });
}

/** Boundaries between stages (in steps) of saved(steps)'s schedule, and the phase each one starts. */
function phaseChanges(steps: number): { at: number; ended: { res: number; kind: string }; now: { res: number; kind: string } | 'done' }[] {
  const u = steps / 6;
  return [
    { at: u, ended: { res: 4, kind: 'stabilise' }, now: { res: 8, kind: 'transition' } },
    { at: 2 * u, ended: { res: 8, kind: 'transition' }, now: { res: 8, kind: 'stabilise' } },
    { at: 3 * u, ended: { res: 8, kind: 'stabilise' }, now: { res: 16, kind: 'transition' } },
    { at: 4 * u, ended: { res: 16, kind: 'transition' }, now: { res: 16, kind: 'stabilise' } },
    { at: steps, ended: { res: 16, kind: 'stabilise' }, now: 'done' },
  ];
}

/**
 * log.jsonl of a whole run of `steps` steps as run.ts writes it: step lines, metrics every `metricsEvery` steps,
 * guard checks, the phase events; a collapse at 70 % rolls back 20 steps (which are then logged again), and the
 * file ends in a line cut short by a crash.
 */
function logText(steps: number, metricsEvery: number): string {
  const lines: object[] = [];
  const changes = phaseChanges(steps);
  const collapseAt = Math.round(steps * 0.7);
  let collapsed = false;
  for (let step = 1; step <= steps; step++) {
    const kimg = (step * BATCH) / 1000;
    const stage = changes.findIndex((c) => step <= c.at);
    const res = [4, 8, 8, 16, 16][stage]!;
    const fading = stage === 1 || stage === 3;
    const u = steps / 6;
    const alpha = fading ? (step - stage * u) / u : 1;
    const wdist = 0.5 * Math.sin(step / 40);
    const gp = 2 + Math.cos(step / 70) + (step % 97 === 0 ? 40 : 0);
    lines.push({ step, kimg, res, alpha, d: -wdist + gp, wdist, gp, drift: 0.001, g: step % 500 === 0 ? null : -0.3 + wdist, ms: 40 + res * 2 + (step % 7) });
    if (step % metricsEvery === 0) {
      const swd = res > 8 ? [900 - step / 10] : [1000 - step / 20];
      lines.push({ event: 'metrics', step, kimg, res, swd, swdMean: swd[0], msssim: res >= 16 ? 0.1 : null, msssimReal: res >= 16 ? 0.45 : null });
    }
    if (step % 50 === 0) lines.push({ event: 'guard', step, kimg, res, ratio: 0.9, fake: 0.18, real: 0.2, verdict: 'healthy' });
    const change = changes.find((c) => c.at === step);
    if (change) lines.push({ event: 'phase', step, kimg, ended: change.ended, now: change.now });
    if (step === collapseAt && !collapsed) {
      collapsed = true;
      const back = step - 20;
      const remedy = { resolution: res, lr: [0.001, 0.0005], lambdaGp: [10, 10], transitionKimg: null, clock: [kimg * 1000, (back * BATCH)] };
      lines.push({ event: 'collapse', step: back, kimg: (back * BATCH) / 1000, detectedAt: step, ratio: 0.31, rolledBackTo: back, remedy, gaveUp: false, rollbacks: 1, phase: { resolution: res, alpha: 1 } });
      step = back;
    }
  }
  lines.push({ event: 'done', step: steps, kimg: (steps * BATCH) / 1000, rollbacks: 1 });
  return lines.map((l) => JSON.stringify(l)).join('\n') + '\n{"step":' + (steps + 1) + ',"kimg":0.0';
}

async function png(width: number, height: number, rgb: [number, number, number]): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).png().toBuffer();
}

async function makeRun(dir: string, steps: number, samples: Record<string, Buffer>): Promise<void> {
  await fs.mkdir(path.join(dir, 'samples'), { recursive: true });
  const s = saved(steps);
  const manifest = {
    format: 'rhodops-checkpoint',
    kind: 'pggan',
    name: path.basename(dir),
    training: { step: steps, imagesSeen: steps * BATCH, phase: { resolution: 16, alpha: 1 } },
    dataset: { dir: HOSTILE_DATA, count: 24 },
    settings: s,
  };
  await fs.writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
  await fs.writeFile(path.join(dir, 'log.jsonl'), logText(steps, 10));
  for (const [name, bytes] of Object.entries(samples)) await fs.writeFile(path.join(dir, 'samples', name), bytes);
}

/** The chart SVGs of a page. */
const chartSvgs = (html: string) => html.split('<svg class="chart-svg"').slice(1).map((s) => s.slice(0, s.indexOf('</svg>')));
const count = (text: string, needle: string) => text.split(needle).length - 1;

let root: string;
before(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'rhodops-report-'));
});
after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('training report', () => {
  let html = '';
  let samples: Record<string, Buffer> = {};
  let file = '';

  before(async () => {
    samples = {
      'latest.png': await png(96, 96, [200, 40, 120]),
      'r0004-stable.png': await png(64, 64, [40, 200, 120]),
      'r0008-fade.png': await png(64, 64, [40, 120, 200]),
    };
    const dir = path.join(root, 'run');
    await makeRun(dir, 600, samples);
    // A video beside the grids must not be embedded.
    await fs.writeFile(path.join(dir, 'samples', 'r0008-fade.mp4'), Buffer.alloc(4096, 1));
    file = await writeTrainingReport(dir, { now: new Date(0) });
    html = await fs.readFile(file, 'utf8');
  });

  it('writes report.html in the run folder, atomically (no temporary file left)', async () => {
    assert.equal(file, path.join(root, 'run', 'report.html'));
    assert.ok(existsSync(file));
    const left = (await fs.readdir(path.join(root, 'run'))).filter((n) => n.startsWith('report.html.'));
    assert.deepEqual(left, []);
  });

  it('is self-contained: nothing loaded from elsewhere, no scripts at all', () => {
    assert.ok(html.startsWith('<!doctype html>'));
    for (const outside of ['src="http', "src='http", 'href="http', '<script', '<link', '@import', 'url(http', '@font-face']) {
      assert.ok(!html.toLowerCase().includes(outside), `the page contains ${outside}`);
    }
  });

  it('embeds every sample grid as a data URI, and no video', () => {
    for (const [name, bytes] of Object.entries(samples)) {
      assert.ok(html.includes(`src="data:image/png;base64,${bytes.toString('base64')}"`), `${name} is embedded`);
    }
    assert.equal(count(html, 'src="data:image/png;base64,'), Object.keys(samples).length);
    assert.ok(!html.includes('video') && !html.includes('mp4'));
    // Labelled by phase, in schedule order.
    assert.ok(html.indexOf('4² stable</span>') < html.indexOf('8² fade-in</span>'));
  });

  it('marks every phase change and the rollback on every chart', () => {
    const phases = parseTrainingLog(logText(600, 10)).phases.length;
    assert.equal(phases, phaseChanges(600).length);
    const svgs = chartSvgs(html);
    assert.equal(svgs.length, 5, 'losses, SWD, MS-SSIM, speed and the guard');
    for (const svg of svgs) {
      assert.equal(count(svg, 'class="phase-marker"'), phases);
      assert.equal(count(svg, 'class="collapse-marker"'), 1);
    }
    assert.match(html, /collapse detected at step 420/);
  });

  it('escapes text that comes from the run folder', () => {
    assert.ok(!html.includes('<b>bold'));
    assert.ok(!html.includes('<script>alert'));
    assert.ok(html.includes('/data/&lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot; &lt;script&gt;alert(1)&lt;/script&gt;'));
  });

  it('shows the run state: remedied learning rate, finished schedule, last diversity', () => {
    assert.match(html, /0\.0005 <span class="was">set 0\.001<\/span>/);
    assert.match(html, /finished · at 16²/);
    assert.match(html, /0\.9×/);
  });

  it('skips the line a crash cut short, and says so', () => {
    const log = parseTrainingLog(logText(600, 10));
    assert.equal(log.skipped, 1);
    assert.equal(log.steps[log.steps.length - 1]!.step, 600);
    assert.ok(log.done);
    assert.match(html, /1 malformed log line was skipped/);
  });

  it('keeps the timeline a rollback left: the steps it undid are gone, the collapse stays', () => {
    const log = parseTrainingLog(logText(600, 10));
    assert.equal(log.steps.length, 600);
    assert.ok(log.steps.every((s, i) => s.step === i + 1));
    assert.ok(log.metrics.every((m, i) => i === 0 || m.step > log.metrics[i - 1]!.step));
    assert.equal(log.collapses.length, 1);
    assert.equal(log.collapses[0]!.rolledBackTo, 400);
  });

  it('downsamples a 20,000-step log: the page stays small', async () => {
    const dir = path.join(root, 'long');
    await makeRun(dir, 20_000, {});
    const logBytes = (await fs.stat(path.join(dir, 'log.jsonl'))).size;
    const page = await fs.readFile(await writeTrainingReport(dir), 'utf8');
    assert.ok(page.length < 400_000, `${page.length} bytes of HTML for a ${logBytes}-byte log`);
    assert.ok(page.length < logBytes / 5);
    for (const svg of chartSvgs(page)) {
      for (const [, d] of svg.matchAll(/<path d="([^"]*)" fill="none"/g)) assert.ok(count(d!, 'L') < MAX_POINTS, `a path of ${count(d!, 'L')} points`);
    }
    assert.match(page, /means of ~25 steps a point/);
  });

  it('keeps the latest grid and the newest phases within the image budget, and says how many it left out', async () => {
    const images = ['latest.png', 'r0004-stable.png', 'r0008-fade.png', 'r0008-stable.png'].map((name, i) => ({ name, pngBase64: Buffer.alloc(3000, i).toString('base64') }));
    const page = renderReport({ ...freshInput(), images, maxImageBytes: 6500 });
    const shown = (name: string) => page.includes(images.find((i) => i.name === name)!.pngBase64);
    assert.deepEqual(['latest.png', 'r0004-stable.png', 'r0008-fade.png', 'r0008-stable.png'].map(shown), [true, false, false, true]);
    assert.match(page, /2 sample grids left out/);
  });

  it('renders a run that has only just started: no steps, no metrics, no samples', () => {
    const page = renderReport(freshInput());
    assert.match(page, /No steps logged yet/);
    assert.match(page, /No metrics logged yet/);
    assert.match(page, /No sample grid yet/);
    assert.match(page, /4² stable/);
    assert.equal(chartSvgs(page).length, 0);
    // Without even a manifest.
    const bare = renderReport({ ...freshInput(), saved: null, training: null });
    assert.match(bare, /not started/);
  });

  it('writes a report for a folder with nothing in it yet', async () => {
    const dir = path.join(root, 'empty');
    await fs.mkdir(dir);
    const page = await fs.readFile(await writeTrainingReport(dir), 'utf8');
    assert.match(page, /No manifest\.json yet/);
  });
});

function freshInput(): ReportInput {
  return { name: 'fresh <run>', now: new Date(0), saved: saved(600), training: { step: 0, imagesSeen: 0 }, dataset: null, log: parseTrainingLog(''), images: [] };
}

describe('openInBrowser', () => {
  it('passes the path as one argument, never through a shell line', () => {
    const file = '/tmp/a b;rm -rf ~/$(x)/report.html';
    assert.deepEqual(openerFor('linux', file), { command: 'xdg-open', args: [file], verbatim: false });
    assert.deepEqual(openerFor('darwin', file), { command: 'open', args: [file], verbatim: false });
    assert.deepEqual(openerFor('win32', 'C:\\runs\\a & b\\report.html')?.args, ['/c', 'start', '""', '"C:\\runs\\a & b\\report.html"']);
    // cmd expands %VAR% even inside quotes, and a quote would end the argument: refused rather than run.
    assert.equal(openerFor('win32', 'C:\\runs\\%PATH%\\report.html'), null);
  });

  it('resolves false, without throwing, when there is no opener to run', { skip: process.platform === 'win32' }, async () => {
    const pathBefore = process.env['PATH'];
    process.env['PATH'] = path.join(root, 'no-such-bin');
    try {
      assert.equal(await openInBrowser(path.join(root, 'run', 'report.html')), false);
    } finally {
      process.env['PATH'] = pathBefore;
    }
  });
});
