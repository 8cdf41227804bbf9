/**
 * The report's charts, from a run's log: losses, SWD, MS-SSIM diversity, speed and the guard's diversity ratio,
 * all against kimg, with the phase changes and rollbacks marked on every one. Step series are bucket-averaged to
 * MAX_POINTS, so a 100k-step run makes a report as small as a short one.
 */
import type { Level } from '../pggan/schedule.ts';
import type { PgganLoss } from '../pggan/settings.ts';
import { bucketMeans, type ChartSpec, type Point, type Series, type XBand, type XMarker } from './chart.ts';
import { stepImagesPerSecond } from './figures.ts';
import { formatNumber } from './html.ts';
import type { MetricsEvent, PhaseEvent, StepEntry, TrainingLog } from './log.ts';

export const MAX_POINTS = 800;

export const SERIES_COLORS = {
  d: '#ff7a93',
  g: '#5cc8ff',
  wdist: '#ffd166',
  gp: '#b69cff',
  swd: '#4fe3c1',
  msssim: '#ffa45c',
  msssimReal: '#c3c7d4',
  speed: '#a3e635',
  ratio: '#f0abfc',
  threshold: '#ff5d6c',
} as const;

/** Per-level SWD lines, finest to coarsest: faint, told apart by hue. */
const LEVEL_COLORS = ['#f472b6', '#c084fc', '#818cf8', '#60a5fa', '#22d3ee', '#2dd4bf', '#a3e635'];

export interface ChartInputs {
  log: TrainingLog;
  levels: readonly Level[] | null;
  loss: PgganLoss | null;
  guardThreshold: number | null;
}

export function phaseLabel(res: number, kind: 'transition' | 'stabilise'): string {
  return `${res}² ${kind === 'transition' ? 'fade-in' : 'stable'}`;
}

export function trainingCharts({ log, levels, loss, guardThreshold }: ChartInputs): ChartSpec[] {
  const xMax = Math.max(
    0,
    ...[log.steps, log.metrics, log.guards, log.phases, log.collapses].map((list) => list[list.length - 1]?.kimg ?? 0),
    ...log.collapses.map((c) => c.kimg),
  );
  const firstRes = levels?.[0]?.resolution ?? log.steps[0]?.res ?? null;
  const common = {
    xDomain: [0, xMax > 0 ? xMax : 1] as const,
    xLabel: 'kimg',
    markers: markers(log),
    bands: fadeBands(log.phases, xMax),
    ...(firstRes !== null ? { startLabel: phaseLabel(firstRes, 'stabilise') } : {}),
  };
  const averaged = log.steps.length > MAX_POINTS ? `; means of ~${Math.round(log.steps.length / MAX_POINTS)} steps a point` : '';
  const charts: ChartSpec[] = [
    {
      ...common,
      id: 'chart-losses',
      title: 'Losses',
      note:
        loss === 'logistic-r1'
          ? `critic d = softplus(D(fake)) + softplus(−D(real)) + R1; g = softplus(−D(fake)); gap = E[D(real)] − E[D(fake)]${averaged}`
          : `critic d = −wdist + penalty + drift; g = −E[D(fake)]${averaged}`,
      series: [
        stepSeries(log.steps, 'critic d', SERIES_COLORS.d, (s) => s.d),
        stepSeries(log.steps, 'generator g', SERIES_COLORS.g, (s) => s.g),
        stepSeries(log.steps, loss === 'logistic-r1' ? 'gap' : 'wdist', SERIES_COLORS.wdist, (s) => s.wdist),
        stepSeries(log.steps, loss === 'logistic-r1' ? 'R1 penalty' : 'gradient penalty', SERIES_COLORS.gp, (s) => s.gp),
      ],
      clipOutliers: true,
      height: 270,
      empty: 'No steps logged yet.',
    },
    swdChart(log, common),
    {
      ...common,
      id: 'chart-msssim',
      title: 'MS-SSIM diversity',
      note: 'mean MS-SSIM of pairs: lower is more varied; samples well above the real data’s line are collapsing',
      series: [
        { label: 'samples', color: SERIES_COLORS.msssim, points: metricPoints(log, (m) => m.msssim), dots: true },
        { label: 'real data', color: SERIES_COLORS.msssimReal, points: metricPoints(log, (m) => m.msssimReal), dots: true, style: 'dashed' },
      ],
      empty: log.metrics.length > 0 ? 'MS-SSIM is measured from 16² on.' : 'No metrics logged yet.',
    },
    {
      ...common,
      id: 'chart-speed',
      title: 'Speed',
      note: `images per second${averaged}`,
      series: [stepSeries(log.steps, 'images/s', SERIES_COLORS.speed, (s) => stepImagesPerSecond(s, levels))],
      clipOutliers: true,
      height: 190,
      empty: levels ? 'No steps logged yet.' : 'Needs the run state’s minibatch sizes (manifest.json).',
    },
  ];
  if (log.guards.length > 0) {
    charts.push({
      ...common,
      id: 'chart-guard',
      title: 'Collapse guard',
      note: 'sample diversity ÷ the real data’s; below the threshold for a few checks in a row is a collapse',
      series: [{ label: 'diversity ratio', color: SERIES_COLORS.ratio, points: bucketMeans(log.guards.map((g) => ({ x: g.kimg, y: g.ratio })), MAX_POINTS), dots: true }],
      refs: [
        ...(guardThreshold !== null ? [{ y: guardThreshold, label: `threshold ${formatNumber(guardThreshold)}`, color: SERIES_COLORS.threshold }] : []),
        { y: 1, label: 'as varied as the data', color: '#6b7186' },
      ],
      height: 190,
    });
  }
  return charts;
}

function swdChart(log: TrainingLog, common: Pick<ChartSpec, 'xDomain' | 'xLabel' | 'markers' | 'bands' | 'startLabel'>): ChartSpec {
  // A level is named by its size (res ÷ 2^i): the 16² level is the same measure at every resolution.
  const sizes = [...new Set(log.metrics.filter((m) => m.swd.length > 1).flatMap((m) => m.swd.map((_, i) => m.res >> i)))].sort((a, b) => b - a);
  const perLevel: Series[] = sizes.map((size, i) => ({
    label: `${size}² level`,
    color: LEVEL_COLORS[i % LEVEL_COLORS.length]!,
    style: 'faint',
    dots: true,
    points: metricPoints(log, ({ swd, res }) => {
      const at = Math.log2(res / size);
      return Number.isInteger(at) && at >= 0 && at < swd.length && swd.length > 1 ? swd[at]! : null;
    }),
  }));
  return {
    ...common,
    id: 'chart-swd',
    title: 'Sliced Wasserstein distance',
    note: 'generated vs real patches, ×1000: lower is closer to the data' + (perLevel.length > 0 ? '; faint: each pyramid level' : ''),
    series: [{ label: 'SWD mean', color: SERIES_COLORS.swd, points: metricPoints(log, (m) => m.swdMean), dots: true }, ...perLevel],
    empty: 'No metrics logged yet (every --metrics-every-kimg, and at each phase change).',
  };
}

function metricPoints(log: TrainingLog, pick: (m: MetricsEvent) => number | null): Point[] {
  return bucketMeans(log.metrics.map((m) => ({ x: m.kimg, y: pick(m) })), MAX_POINTS);
}

function stepSeries(steps: readonly StepEntry[], label: string, color: string, pick: (s: StepEntry) => number | null): Series {
  const points: Point[] = steps.map((s) => ({ x: s.kimg, y: pick(s) }));
  return { label, color, points: bucketMeans(points, MAX_POINTS) };
}

function markers(log: TrainingLog): XMarker[] {
  const phases = log.phases.map(
    (p): XMarker => ({
      x: p.kimg,
      kind: 'phase',
      label: p.now === 'done' ? 'end' : phaseLabel(p.now.res, p.now.kind),
      detail: `${phaseLabel(p.ended.res, p.ended.kind)} ended at step ${p.step}, ${formatNumber(p.kimg)} kimg`,
    }),
  );
  const collapses = log.collapses.map(
    (c): XMarker => ({
      x: c.kimg,
      kind: 'collapse',
      label: c.gaveUp ? 'collapse: stopped' : 'rollback',
      detail:
        `collapse detected at step ${c.detectedAt} (diversity ratio ${formatNumber(c.ratio, 3)}); ` +
        (c.rolledBackTo === null ? 'no healthy checkpoint, remedy applied in place' : `rolled back to step ${c.rolledBackTo}`) +
        (c.gaveUp ? '; training stopped' : ''),
    }),
  );
  return [...phases, ...collapses];
}

/** The spans of the fade-ins: from the phase change that starts one to the next phase change (or the log's end). */
function fadeBands(phases: readonly PhaseEvent[], xMax: number): XBand[] {
  const bands: XBand[] = [];
  phases.forEach((p, i) => {
    if (p.now === 'done' || p.now.kind !== 'transition') return;
    bands.push({ from: p.kimg, to: phases[i + 1]?.kimg ?? xMax, detail: `${phaseLabel(p.now.res, 'transition')}: the new layers blend in` });
  });
  return bands;
}
