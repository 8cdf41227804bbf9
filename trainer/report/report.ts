/**
 * A PGGAN run folder as one HTML page to look at: where training is and how fast it goes, the sample grids, the
 * curves against kimg with the phase changes marked, the collapse guard's record and the settings. Everything is
 * inline (SVG charts drawn here, images as data URIs, no scripts), so the file can be mailed, archived or opened
 * from a file manager, and text from the run folder is escaped wherever it goes.
 *
 * Reading the folder (readRunFolder) is apart from rendering (renderReport, pure), so tests and other callers can
 * render from data they built.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { z } from 'zod';
import { writeFileAtomic } from '../../core/fsutil.ts';
import { stages, type Level, type StageKind } from '../pggan/schedule.ts';
import { savedSettingsSchema, type SavedSettings } from '../pggan/settings.ts';
import { renderChart } from './chart.ts';
import { runFigures, SPEED_WINDOW, type RunFigures } from './figures.ts';
import { escapeHtml, formatDuration, formatNumber } from './html.ts';
import { parseTrainingLog, type TrainingLog } from './log.ts';
import { phaseLabel, trainingCharts } from './training-charts.ts';

export const REPORT_FILE = 'report.html';
/** Embedded PNG bytes at most: the page must still open quickly and mail. */
export const MAX_IMAGE_BYTES = 8 * 1024 * 1024;
/** Grids wider than this are scaled down when read (a 1024² run's grid is 8k pixels wide; a page shows ~1k). */
const MAX_LATEST_WIDTH = 2048;
const MAX_PHASE_WIDTH = 1024;
/** Display widths (CSS px) of the latest grid and of a phase card: smaller images are enlarged with hard pixels. */
const LATEST_DISPLAY = 880;
const PHASE_DISPLAY = 300;

export interface ReportImage {
  /** File name in samples/: latest.png, or a phase's (r0016-fade.png, r0016-stable.png). */
  name: string;
  pngBase64: string;
}

/**
 * What a report is made from: the manifest's parts (settings and run state, training clock, dataset), the parsed
 * log, the sample PNGs and the moment of writing; each may be missing in a run that has only just started.
 */
export interface ReportInput {
  /** The run folder's name. */
  name: string;
  now: Date;
  /** manifest.json's `settings` (the settings and the run state), or null when absent or unreadable. */
  saved: SavedSettings | null;
  training: { step: number; imagesSeen: number } | null;
  dataset: { dir: string | null; count: number | null } | null;
  log: TrainingLog;
  images: readonly ReportImage[];
  /** Problems met while reading the folder, shown at the foot of the page. */
  notes?: readonly string[];
  /** Cap on embedded image bytes; MAX_IMAGE_BYTES by default. */
  maxImageBytes?: number;
}

export interface ReportOptions {
  /** When the report is written; default new Date(). */
  now?: Date;
}

/** Reads the run folder `dir` and writes `dir/report.html` atomically. Returns the path. */
export async function writeTrainingReport(dir: string, o: ReportOptions = {}): Promise<string> {
  const input = await readRunFolder(dir, o.now ?? new Date());
  const file = path.join(dir, REPORT_FILE);
  // A temporary name beside it, fsynced, then renamed over: a browser reloading mid-write sees a whole page.
  await writeFileAtomic(file, renderReport(input));
  return file;
}

// ─── Reading ───────────────────────────────────────────────────────────────────────────────────────────────────

const manifestPartsSchema = z.object({
  training: z.object({ step: z.number().int().nonnegative(), imagesSeen: z.number().nonnegative() }).optional(),
  dataset: z.object({ dir: z.string().optional(), count: z.number().optional() }).optional(),
  settings: z.unknown(),
});

const SAMPLE_NAME = /^(latest|r\d{4}-(fade|stable))\.png$/;

export async function readRunFolder(dir: string, now: Date): Promise<ReportInput> {
  const notes: string[] = [];
  let saved: SavedSettings | null = null;
  let training: ReportInput['training'] = null;
  let dataset: ReportInput['dataset'] = null;
  const manifestText = await fs.readFile(path.join(dir, 'manifest.json'), 'utf8').catch(() => null);
  if (manifestText === null) {
    notes.push('No manifest.json yet (no checkpoint saved): settings and schedule are unknown.');
  } else {
    const parts = manifestPartsSchema.safeParse(parseJson(manifestText));
    if (!parts.success) {
      notes.push('manifest.json could not be read as a checkpoint manifest.');
    } else {
      training = parts.data.training ?? null;
      dataset = parts.data.dataset ? { dir: parts.data.dataset.dir ?? null, count: parts.data.dataset.count ?? null } : null;
      const settings = savedSettingsSchema.safeParse(parts.data.settings);
      if (settings.success) saved = settings.data;
      else notes.push('manifest.json holds no PGGAN settings this version can read: settings, schedule and ETA are left out.');
    }
  }
  const log = parseTrainingLog(await fs.readFile(path.join(dir, 'log.jsonl'), 'utf8').catch(() => ''));
  return { name: path.basename(path.resolve(dir)), now, saved, training, dataset, log, images: await readSamples(path.join(dir, 'samples'), notes), notes };
}

async function readSamples(dir: string, notes: string[]): Promise<ReportImage[]> {
  const names = (await fs.readdir(dir).catch(() => [] as string[])).filter((n) => SAMPLE_NAME.test(n)).sort();
  const images: ReportImage[] = [];
  for (const name of names) {
    try {
      const png = await shrinkGrid(await fs.readFile(path.join(dir, name)), name === 'latest.png' ? MAX_LATEST_WIDTH : MAX_PHASE_WIDTH);
      images.push({ name, pngBase64: png.toString('base64') });
    } catch {
      // Being rewritten by the trainer right now, or damaged: the next report will have it.
      notes.push(`samples/${name} could not be read and is left out.`);
    }
  }
  return images;
}

async function shrinkGrid(png: Buffer, maxWidth: number): Promise<Buffer> {
  const { width } = await sharp(png).metadata();
  if (width === undefined) throw new Error('not an image');
  return width <= maxWidth ? png : sharp(png).resize({ width: maxWidth }).png({ compressionLevel: 9 }).toBuffer();
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// ─── Rendering ─────────────────────────────────────────────────────────────────────────────────────────────────

/** The HTML, from parsed inputs (pure). */
export function renderReport(input: ReportInput): string {
  const { saved, log } = input;
  const levels = saved?.run.levels ?? null;
  const figures = runFigures({ log, levels, widths: saved?.settings.arch.widths ?? null, imagesSeen: input.training?.imagesSeen ?? null });
  const charts = trainingCharts({ log, levels, loss: saved?.settings.loss ?? null, guardThreshold: saved?.settings.guard.threshold ?? null });
  const guardChart = charts.find((c) => c.id === 'chart-guard');
  const images = selectImages(input.images, input.maxImageBytes ?? MAX_IMAGE_BYTES);
  const notes = [...(input.notes ?? [])];
  if (log.skipped > 0) notes.push(`${log.skipped} malformed log line${log.skipped === 1 ? ' was' : 's were'} skipped (a line cut short by a crash is one).`);
  if (images.leftOut > 0) {
    notes.push(`${images.leftOut} sample grid${images.leftOut === 1 ? '' : 's'} left out to keep the images under ${formatNumber(images.budget / 1024 / 1024, 3)} MB (the oldest phases go first).`);
  }
  const body = [
    header(input, figures),
    samplesSection(images, log),
    `<section id="curves"><h2>Training curves</h2>${charts.filter((c) => c !== guardChart).map(renderChart).join('')}</section>`,
    guardSection(input, guardChart ? renderChart(guardChart) : ''),
    settingsSection(input),
    notes.length > 0 ? `<section id="notes"><h2>Notes</h2><ul class="notes">${notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul></section>` : '',
  ].join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(input.name)} · PGGAN training report</title>
<style>${CSS}</style></head>
<body><main>
${body}
<footer>rhodops · written ${escapeHtml(formatWhen(input.now))}</footer>
</main></body></html>
`;
}

function header(input: ReportInput, f: RunFigures): string {
  const last = input.log.steps[input.log.steps.length - 1];
  const step = Math.max(input.training?.step ?? 0, last?.step ?? 0);
  const phase = phaseText(f, last?.res ?? null);
  const totalKimg = f.total === null ? null : f.total / 1000;
  const percent = f.total ? Math.min(100, (f.clock / f.total) * 100) : null;
  const lastRatio = input.log.guards[input.log.guards.length - 1]?.ratio ?? input.saved?.run.guard.lastRatio ?? null;
  const threshold = input.saved?.settings.guard.threshold ?? null;
  const lastMetrics = input.log.metrics[input.log.metrics.length - 1];
  const stats = [
    stat('Phase', phase.main, phase.detail),
    stat('Progress', `${formatKimg(f.clock / 1000)} <small>kimg</small>`, totalKimg === null || percent === null ? 'schedule unknown' : `${percent.toFixed(1)} % of ${formatKimg(totalKimg)} kimg`, true),
    stat('Speed', f.imagesPerSecond === null ? '—' : `${formatNumber(f.imagesPerSecond, 3)} <small>img/s</small>`, `median of the last ${SPEED_WINDOW} steps`, true),
    stat('Time left', f.finished ? 'done' : f.etaSeconds === null ? '—' : formatDuration(f.etaSeconds), f.finished ? 'the schedule is complete' : 'at recent speed, scaled for later resolutions'),
    stat('Diversity', lastRatio === null ? '—' : `${formatNumber(lastRatio, 3)}×`, threshold === null ? 'guard ratio' : `guard threshold ${formatNumber(threshold)}×`, false, lastRatio !== null && threshold !== null && lastRatio < threshold ? 'bad' : ''),
    stat('SWD', lastMetrics ? formatNumber(lastMetrics.swdMean, 4) : '—', lastMetrics ? `at ${lastMetrics.res}², lower is better` : 'not measured yet'),
  ];
  return `<header>
<div class="eyebrow">PGGAN training report</div>
<h1>${escapeHtml(input.name)}</h1>
<div class="sub">${escapeHtml(`${phase.main}${phase.detail ? ` · ${phase.detail}` : ''} · step ${step.toLocaleString('en-US')} · written ${formatWhen(input.now)}`)}</div>
</header>
<div class="stats">${stats.join('')}</div>
${input.saved ? scheduleBar(input.saved.run.levels, f) : ''}`;
}

function phaseText(f: RunFigures, lastRes: number | null): { main: string; detail: string } {
  if (f.point === null) return { main: lastRes === null ? 'not started' : `${lastRes}²`, detail: '' };
  const { resolution, stage, alpha } = f.point;
  if (f.finished) return { main: 'finished', detail: `at ${resolution}²` };
  return stage.kind === 'transition'
    ? { main: phaseLabel(resolution, 'transition'), detail: `α ${alpha.toFixed(2)}` }
    : { main: phaseLabel(resolution, 'stabilise'), detail: 'α 1' };
}

function stat(key: string, valueHtml: string, sub: string, valueIsHtml = false, tone = ''): string {
  const value = valueIsHtml ? valueHtml : escapeHtml(valueHtml);
  return `<div class="stat ${tone}"><div class="k">${escapeHtml(key)}</div><div class="v">${value}</div><div class="s">${escapeHtml(sub)}</div></div>`;
}

/** Colours of the resolutions, 4² first: indigo to amber, bright on the dark page. */
const LEVEL_PALETTE = ['#6366f1', '#8b5cf6', '#c04fd8', '#e0479e', '#f25c6c', '#f7844a', '#f6ad3b', '#e8d04a', '#a6d85b'];

/** The whole schedule as one bar: a segment per stage (fade-ins as a blend of the two colours), done part lit. */
function scheduleBar(levels: readonly Level[], f: RunFigures): string {
  const W = 920;
  const all = stages(levels).filter((s) => s.images > 0);
  const total = f.total ?? 0;
  if (total <= 0 || all.length === 0) return '';
  const x = (images: number) => Math.round((Math.min(images, total) / total) * W * 10) / 10;
  const color = (level: number) => LEVEL_PALETTE[Math.min(level, LEVEL_PALETTE.length - 1)]!;
  const defs: string[] = [];
  const segments: string[] = [];
  for (const s of all) {
    let fill = color(s.level);
    if (s.kind === 'transition') {
      const id = `fade-${s.index}`;
      defs.push(`<linearGradient id="${id}"><stop offset="0" stop-color="${color(s.level - 1)}"/><stop offset="1" stop-color="${color(s.level)}"/></linearGradient>`);
      fill = `url(#${id})`;
    }
    const title = `${phaseLabel(s.resolution, s.kind)}: ${formatKimg(s.images / 1000)} kimg`;
    segments.push(`<rect x="${x(s.start)}" y="8" width="${Math.max(0.5, x(s.start + s.images) - x(s.start))}" height="16" fill="${fill}"><title>${escapeHtml(title)}</title></rect>`);
  }
  const labels = levels.map((l, level) => {
    const own = all.filter((s) => s.level === level);
    if (own.length === 0) return '';
    const from = x(own[0]!.start);
    const to = x(own[own.length - 1]!.start + own[own.length - 1]!.images);
    const current = f.point?.stage.level === level;
    return to - from >= 26 ? `<text x="${(from + to) / 2}" y="42" text-anchor="middle" class="${current ? 'now' : ''}">${l.resolution}²</text>` : '';
  });
  const cx = x(f.clock);
  return `<svg class="schedule" viewBox="0 -2 ${W} 50" role="img" aria-label="schedule">
<defs>${defs.join('')}<clipPath id="bar-clip"><rect x="0" y="8" width="${W}" height="16" rx="5"/></clipPath></defs>
<g clip-path="url(#bar-clip)">${segments.join('')}<rect x="${cx}" y="8" width="${Math.max(0, W - cx)}" height="16" fill="#0d0e12" opacity="0.72"/></g>
${labels.join('')}
<path d="M${cx - 5} 0h10l-5 6z" fill="#f5f6fa"/><line x1="${cx}" x2="${cx}" y1="5" y2="27" stroke="#f5f6fa" stroke-width="2"/>
</svg>`;
}

interface PhaseGrid {
  image: ReportImage;
  resolution: number;
  kind: StageKind;
}

interface ImageSelection {
  latest: ReportImage | null;
  /** In schedule order. */
  phases: PhaseGrid[];
  leftOut: number;
  budget: number;
}

/** Keeps the latest grid, then the newest phases, while the embedded bytes stay within `budget`. */
export function selectImages(images: readonly ReportImage[], budget: number): ImageSelection {
  const latest = images.find((i) => i.name === 'latest.png') ?? null;
  const phases: PhaseGrid[] = [];
  for (const image of images) {
    const m = /^r(\d{4})-(fade|stable)\.png$/.exec(image.name);
    if (m) phases.push({ image, resolution: Number(m[1]), kind: m[2] === 'fade' ? 'transition' : 'stabilise' });
  }
  phases.sort((a, b) => a.resolution - b.resolution || (a.kind === b.kind ? 0 : a.kind === 'transition' ? -1 : 1));
  let used = 0;
  const fits = (image: ReportImage) => {
    const bytes = Math.floor((image.pngBase64.length * 3) / 4);
    if (used + bytes > budget) return false;
    used += bytes;
    return true;
  };
  const keptLatest = latest !== null && fits(latest) ? latest : null;
  const kept: PhaseGrid[] = [];
  for (let i = phases.length - 1; i >= 0; i--) {
    // Stop at the first that does not fit: the gallery stays a run of consecutive phases.
    if (!fits(phases[i]!.image)) break;
    kept.unshift(phases[i]!);
  }
  const leftOut = phases.length - kept.length + (latest !== null && keptLatest === null ? 1 : 0);
  return { latest: keptLatest, phases: kept, leftOut, budget };
}

function samplesSection(images: ImageSelection, log: TrainingLog): string {
  const latest = images.latest
    ? `<figure class="latest">${img(images.latest, 'latest samples', LATEST_DISPLAY)}<figcaption>Latest grid · the same latents all run long, so grids compare</figcaption></figure>`
    : `<div class="chart-empty">No sample grid yet (one is written with each checkpoint).</div>`;
  const cards = images.phases.map((p) => {
    const ended = [...log.phases].reverse().find((e) => e.ended.res === p.resolution && e.ended.kind === p.kind);
    const when = ended ? `step ${ended.step.toLocaleString('en-US')} · ${formatKimg(ended.kimg)} kimg` : '';
    return `<figure class="phase-card">${img(p.image, phaseLabel(p.resolution, p.kind), PHASE_DISPLAY)}<figcaption><span class="what">${escapeHtml(phaseLabel(p.resolution, p.kind))}</span><span class="when">${escapeHtml(when)}</span></figcaption></figure>`;
  });
  const gallery = cards.length > 0 ? `<h3>At the end of each phase</h3><div class="gallery">${cards.join('')}</div>` : '';
  return `<section id="samples"><h2>Samples</h2>${latest}${gallery}</section>`;
}

function img(image: ReportImage, alt: string, displayWidth: number): string {
  const size = pngSize(image.pngBase64);
  const dims = size ? ` width="${size.width}" height="${size.height}"` : '';
  // Small grids enlarged smoothly turn to mush; hard pixels show what the generator made.
  const pixelated = size !== null && size.width < displayWidth ? ' class="pixelated"' : '';
  return `<img${pixelated}${dims} alt="${escapeHtml(alt)}" src="data:image/png;base64,${escapeHtml(image.pngBase64)}">`;
}

/** Width and height from a PNG's IHDR chunk, or null for anything else. */
export function pngSize(base64: string): { width: number; height: number } | null {
  const head = Buffer.from(base64.slice(0, 32), 'base64');
  if (head.length < 24 || head.readUInt32BE(0) !== 0x89504e47 || head.toString('latin1', 12, 16) !== 'IHDR') return null;
  return { width: head.readUInt32BE(16), height: head.readUInt32BE(20) };
}

function guardSection(input: ReportInput, chart: string): string {
  const guard = input.saved?.settings.guard;
  const run = input.saved?.run;
  const collapses = input.log.collapses;
  const lastGuard = input.log.guards[input.log.guards.length - 1];
  const lines: string[] = [];
  if (guard && !guard.enabled) lines.push('<p class="muted">The collapse guard is off for this run.</p>');
  else if (!lastGuard) {
    lines.push(`<p class="muted">No diversity check yet${guard ? ` (every ${guard.everySteps} steps; verdicts after ${formatNumber(guard.warmupKimg)} kimg)` : ''}.</p>`);
  } else {
    const below = guard !== undefined && lastGuard.ratio < guard.threshold;
    lines.push(
      `<p>Last check at step ${lastGuard.step.toLocaleString('en-US')} (${escapeHtml(formatKimg(lastGuard.kimg))} kimg, ${lastGuard.res}²): ` +
        `samples are <strong class="${below ? 'bad' : 'good'}">${escapeHtml(formatNumber(lastGuard.ratio, 3))}×</strong> as varied as the real data` +
        (guard ? ` (threshold ${escapeHtml(formatNumber(guard.threshold))}×, ${guard.window} checks in a row)` : '') +
        ` · verdict <em>${escapeHtml(lastGuard.verdict)}</em>` +
        (run ? ` · rollbacks ${run.rollbacks}${guard ? ` of ${guard.maxRollbacks}` : ''}` : '') +
        '.</p>',
    );
  }
  if (collapses.length > 0) {
    const rows = collapses.map((c) => {
      const r = c.remedy;
      const change = (pair: readonly [number, number] | null | undefined) => (pair ? `${formatNumber(pair[0])} → ${formatNumber(pair[1])}` : '—');
      return (
        `<tr><td>${c.detectedAt.toLocaleString('en-US')}</td><td>${escapeHtml(formatNumber(c.ratio, 3))}×</td>` +
        `<td>${c.rolledBackTo === null ? 'none (in place)' : `step ${c.rolledBackTo.toLocaleString('en-US')} · ${escapeHtml(formatKimg(c.kimg))} kimg`}</td>` +
        `<td>${escapeHtml(change(r?.lr))}</td><td>${escapeHtml(change(r?.lambdaGp))}</td><td>${escapeHtml(change(r?.transitionKimg))}</td>` +
        `<td class="${c.gaveUp ? 'bad' : ''}">${c.gaveUp ? 'stopped' : 'continued'}</td></tr>`
      );
    });
    lines.push(
      `<table class="collapses"><thead><tr><th>Detected at step</th><th>Ratio</th><th>Rolled back to</th><th>lr</th><th class="keep-case">λ</th><th>Fade-in kimg</th><th>Then</th></tr></thead><tbody>${rows.join('')}</tbody></table>`,
    );
  }
  return `<section id="guard"><h2>Collapse guard</h2>${lines.join('')}${chart}</section>`;
}

function settingsSection(input: ReportInput): string {
  const saved = input.saved;
  if (!saved) return `<section id="settings"><h2>Settings</h2><p class="muted">Not known: manifest.json is missing or unreadable.</p></section>`;
  const s = saved.settings;
  const run = saved.run;
  const onOff = (v: boolean) => (v ? 'yes' : 'no');
  const lossText = s.loss === 'logistic-r1' ? `logistic, R1 γ ${changed(s.lambdaGp, run.lambdaGp)} every ${s.r1Every} steps` : `WGAN-GP, λ ${changed(s.lambdaGp, run.lambdaGp)}`;
  const g = s.guard;
  const rows: [string, string][] = [
    ['Resolution', `${s.arch.maxResolution}² · ${s.arch.channels === 1 ? 'grey' : 'RGB'}`],
    ['Widths', s.arch.widths.join(', ')],
    ['Latent', String(s.arch.latentSize)],
    ['Loss', lossText],
    ['Augment', s.augment.length > 0 ? s.augment.join(', ') : 'none'],
    ['Data', s.data + (input.dataset?.count != null ? ` (${input.dataset.count.toLocaleString('en-US')} images)` : '')],
    ['Mirror / invert', `${onOff(s.mirror)} / ${onOff(s.invert)}`],
    ['Seed', String(s.seed)],
    ['Adam', `β₁ ${formatNumber(s.beta1)}, β₂ ${formatNumber(s.beta2)}, ε ${formatNumber(s.epsilon)}`],
    ['lr scale G / D', `${formatNumber(s.lrScaleG)} / ${formatNumber(s.lrScaleD)}`],
    ['Drift', formatNumber(s.drift)],
    ['Minibatch-stddev group', String(s.mbstdGroup)],
    ['Checkpoint every', checkpointCadence(s.checkpointEveryKimg, s.checkpointEveryMinutes)],
    ['Metrics every', s.metricsEveryKimg > 0 ? `${formatNumber(s.metricsEveryKimg)} kimg` : 'never'],
    [
      'Guard',
      g.enabled
        ? `every ${g.everySteps} steps, below ${formatNumber(g.threshold)}× for ${g.window} checks, after ${formatNumber(g.warmupKimg)} kimg, ${g.samples} samples; ` +
          `remedy lr ×${formatNumber(g.remedy.lr)}, λ ×${formatNumber(g.remedy.gp)}, fade-in ×${formatNumber(g.remedy.fade)}; at most ${g.maxRollbacks} rollbacks`
        : 'off',
    ],
  ];
  const table = rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('');
  const levelRows = run.levels.map((l, i) => {
    const set = s.levels[i];
    const cell = (now: number, was: number | undefined) =>
      was === undefined || was === now ? escapeHtml(formatNumber(now)) : `${escapeHtml(formatNumber(now))} <span class="was">set ${escapeHtml(formatNumber(was))}</span>`;
    return (
      `<tr><td>${l.resolution}²</td><td>${cell(l.batch, set?.batch)}</td><td>${cell(l.lr, set?.lr)}</td>` +
      `<td>${i === 0 ? '—' : cell(l.transitionKimg, set?.transitionKimg)}</td><td>${cell(l.stabiliseKimg, set?.stabiliseKimg)}</td></tr>`
    );
  });
  return `<section id="settings"><h2>Settings</h2><div class="settings">
<table class="kv">${table}</table>
<table class="levels"><caption>Fade-in and stable lengths in kimg; lr and lengths as in force now (remedies applied).</caption><thead><tr><th>Level</th><th>Batch</th><th>lr</th><th>Fade-in</th><th>Stable</th></tr></thead><tbody>${levelRows.join('')}</tbody></table>
</div></section>`;
}

function checkpointCadence(kimg: number, minutes: number): string {
  const every = [kimg > 0 ? `${formatNumber(kimg)} kimg` : '', minutes > 0 ? `${formatNumber(minutes)} min` : ''].filter(Boolean);
  return every.length > 0 ? `${every.join(' and ')}, and at phase changes` : 'phase changes only';
}

/** "10", or "10 → 5" when a remedy changed it. */
function changed(set: number, now: number): string {
  return set === now ? formatNumber(set) : `${formatNumber(set)} → ${formatNumber(now)}`;
}

function formatKimg(kimg: number): string {
  return kimg >= 100 ? Math.round(kimg).toLocaleString('en-US') : formatNumber(kimg, 3);
}

/** In UTC, so the same input renders the same page wherever it is rendered. */
function formatWhen(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

const CSS = `
:root{color-scheme:dark;--bg:#0d0e12;--panel:#14161d;--line:#252834;--text:#e6e8f0;--muted:#8b90a3;--good:#6ee7b7;--bad:#ff6b7a}
*{box-sizing:border-box}
body{margin:0;background:radial-gradient(1200px 500px at 20% -10%,#1b1830 0,transparent 60%),var(--bg);color:var(--text);font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Ubuntu,sans-serif}
main{max-width:1000px;margin:0 auto;padding:32px 24px 48px}
.eyebrow{color:var(--muted);font-size:12px;letter-spacing:.14em;text-transform:uppercase}
h1{margin:2px 0 2px;font-size:32px;font-weight:650;letter-spacing:-.01em;overflow-wrap:anywhere}
.sub{color:var(--muted)}
.stats{display:grid;grid-template-columns:repeat(auto-fit,minmax(145px,1fr));gap:10px;margin:20px 0 14px}
.stat{background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:10px 14px 9px}
.stat .k{color:var(--muted);font-size:11px;letter-spacing:.08em;text-transform:uppercase}
.stat .v{font-size:20px;font-weight:600;font-variant-numeric:tabular-nums;white-space:nowrap;margin:2px 0}
.stat .v small{font-size:13px;color:var(--muted);font-weight:500}
.stat .s{color:var(--muted);font-size:11.5px;line-height:1.3}
.stat.bad .v{color:var(--bad)}
svg.schedule{width:100%;height:auto;display:block;margin:4px 0 0;overflow:visible}
svg.schedule text{font:11px system-ui,sans-serif;fill:var(--muted)}
svg.schedule text.now{fill:var(--text);font-weight:600}
section{margin-top:36px}
h2{font-size:13px;font-weight:600;letter-spacing:.12em;text-transform:uppercase;color:var(--muted);border-bottom:1px solid var(--line);padding-bottom:7px;margin:0 0 16px}
h3{font-size:14px;font-weight:600;color:var(--muted);margin:26px 0 10px}
figure{margin:0}
figure.latest{background:var(--panel);border:1px solid var(--line);border-radius:12px;padding:12px;text-align:center}
figure.latest img{width:min(100%,880px);height:auto;border-radius:4px;display:block;margin:0 auto}
figure.latest figcaption{color:var(--muted);font-size:12px;margin-top:8px}
img.pixelated{image-rendering:pixelated}
.gallery{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:12px}
.phase-card{background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:8px}
.phase-card img{width:100%;height:auto;display:block;border-radius:3px}
.phase-card figcaption{display:flex;flex-direction:column;font-size:12.5px;margin-top:6px;line-height:1.35}
.phase-card .what{font-weight:600;white-space:nowrap}
.phase-card .when{color:var(--muted);font-size:11.5px}
figure.chart{background:var(--panel);border:1px solid var(--line);border-radius:12px;padding:12px 14px 4px;margin-bottom:16px}
figure.chart figcaption{display:flex;flex-wrap:wrap;align-items:baseline;gap:2px 14px;margin-bottom:2px}
.chart-title{font-weight:600;font-size:15px}
.chart-note{color:var(--muted);font-size:12px;flex:1 1 320px}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px;color:#c5c8d6;width:100%}
.legend-item{display:inline-flex;align-items:center;gap:6px}
.swatch{display:inline-block;width:18px;height:0}
svg.chart-svg{width:100%;height:auto;display:block}
svg.chart-svg text{font:11px system-ui,sans-serif;fill:var(--muted)}
svg.chart-svg text.axis-label{font-style:italic}
svg.chart-svg text.marker-label.phase{fill:#b4b9cc}
svg.chart-svg text.marker-label.collapse{fill:var(--bad);font-weight:600;paint-order:stroke;stroke:#14161d;stroke-width:4px;stroke-linejoin:round}
svg.chart-svg text.clipped{fill:#5f6477;font-style:italic}
.chart-empty{color:var(--muted);background:repeating-linear-gradient(135deg,transparent 0 10px,rgba(255,255,255,.018) 10px 20px);border:1px dashed var(--line);border-radius:8px;padding:26px;text-align:center;margin:8px 0 10px}
.muted{color:var(--muted)}
.good{color:var(--good)}.bad{color:var(--bad)}
table{border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums}
th,td{padding:5px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
thead th{color:var(--muted);font-weight:600;font-size:11.5px;letter-spacing:.05em;text-transform:uppercase;white-space:nowrap}
thead th.keep-case{text-transform:none;font-size:13px}
table.collapses{width:100%;margin:8px 0 16px}
.settings{display:grid;grid-template-columns:minmax(0,1.6fr) minmax(0,1fr);gap:22px;align-items:start}
@media (max-width:760px){.settings{grid-template-columns:1fr}}
table.kv th{color:var(--muted);font-weight:500;white-space:nowrap;width:1%}
table.kv td{overflow-wrap:anywhere}
table.levels td:first-child{font-weight:600}
table.levels caption{caption-side:bottom;text-align:left;color:var(--muted);font-size:11.5px;padding-top:6px}
.was{color:#f6ad3b;font-size:11px;margin-left:4px}
ul.notes{color:var(--muted);margin:0;padding-left:18px}
footer{margin-top:40px;color:#5f6477;font-size:12px;text-align:center}
`;

// ─── Opening ───────────────────────────────────────────────────────────────────────────────────────────────────

/** How long an opener may run before it counts as having handed the file over (some stay up as the browser). */
const OPEN_SETTLE_MS = 2000;

/**
 * Opens `file` in the default browser: the platform's opener with the path as one argument (no shell line is
 * built from it). Resolves false, never throws, when there is no opener or it fails.
 */
export function openInBrowser(file: string): Promise<boolean> {
  const target = path.resolve(file);
  const opener = openerFor(process.platform, target);
  if (opener === null) return Promise.resolve(false);
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(opener.command, opener.args, { detached: true, stdio: 'ignore', windowsVerbatimArguments: opener.verbatim });
    } catch {
      resolve(false);
      return;
    }
    const settled = setTimeout(() => {
      child.unref();
      resolve(true);
    }, OPEN_SETTLE_MS);
    child.once('error', () => {
      clearTimeout(settled);
      resolve(false);
    });
    child.once('exit', (code) => {
      clearTimeout(settled);
      resolve(code === 0);
    });
  });
}

interface Opener {
  command: string;
  args: string[];
  verbatim: boolean;
}

export function openerFor(platform: NodeJS.Platform, file: string): Opener | null {
  if (platform === 'darwin') return { command: 'open', args: [file], verbatim: false };
  if (platform === 'win32') {
    // cmd parses its own line: the path goes in quotes, and the two characters that act inside quotes are refused.
    if (/["%]/.test(file)) return null;
    return { command: 'cmd', args: ['/c', 'start', '""', `"${file}"`], verbatim: true };
  }
  return { command: 'xdg-open', args: [file], verbatim: false };
}
