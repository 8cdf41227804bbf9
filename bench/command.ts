/**
 * `rhodops bench` (= `npm run bench`): the ORT matmul peak, then every engine × generator × batch,
 * all in one run so the figures can be compared as ratios on a shared, noisy machine.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import * as ort from 'onnxruntime-node';
import { initBackend } from '../core/backend.ts';
import { messageOf, RhodopsError } from '../core/errors.ts';
import { intOption } from '../core/options.ts';
import { defaultOrtOptions } from '../core/runtime/ort.ts';
import { benchGenerator, benchModels, type GeneratorRow } from './generators.ts';
import { ortConvProbe, ortMatmulPeak } from './ort-peak.ts';
import { formatTable } from './table.ts';
import { benchInfoganTraining, type TrainingRow } from './training.ts';
import { benchAudioFeatures } from './audio.ts';
import { benchMapping } from './mapping.ts';
import { benchServer, pgganMid128, type ServerBench } from './server.ts';
import { benchClient, type ClientBenchRow } from './client.ts';
import { benchRender, type RenderRow, type UpscaleRow } from './render.ts';
import { benchAugment, type AugmentBenchRow } from './augment.ts';
import { benchStylize, type StylizeBenchRow } from './stylize.ts';
import { chooseAuto, surveyProviders } from '../core/gpu/providers.ts';
import { benchPgganTraining, type PgganTrainingRow } from './pggan-training.ts';
import { benchPgganQuality } from './pggan-quality.ts';
import { DEFAULT_MODEL } from '../presets/bundled.ts';
import { benchHostile, hostileReport, type HostileRow } from './hostile.ts';
import { benchFarm, farmReport, type FarmBench } from './farm.ts';

interface BenchOptions {
  quick: boolean;
  training: boolean;
  server: boolean;
  client: boolean;
  render: boolean;
  datasets: boolean;
  hostile: boolean;
  hostileOnly: boolean;
  farm: boolean;
  farmOnly: boolean;
  quality?: string;
  qualityMinutes: string;
  threads: string;
  json?: string;
  only?: string;
}

export function benchCommand(): Command {
  return new Command('bench')
    .description('measure generator speed: ORT and tfjs-wasm × PGGAN/InfoGAN presets × batch 1/4')
    .option('--quick', 'a subset that finishes in under 2 minutes', false)
    .option('--threads <n>', 'ONNX Runtime intra-op threads', String(defaultOrtOptions().intraOpNumThreads))
    .option('--only <ids>', 'comma-separated model ids (e.g. pggan-mid-256,infogan-64)')
    .option('--no-training', 'skip the training-speed section')
    .option('--no-server', 'skip the live-server section')
    .option('--no-client', 'skip the output-page section (headless Chromium)')
    .option('--no-render', 'skip the offline-render section')
    .option('--no-datasets', 'skip the datasets section (augment, pack, style transfer)')
    .option('--no-hostile', 'skip the hostile-client section (attackers in child processes against a live server)')
    .option('--hostile-only', 'run only the hostile-client section', false)
    .option('--no-farm', 'skip the render-farm section (local render against 1 and 2 workers through a local redis-server)')
    .option('--farm-only', 'run only the render-farm section', false)
    .option('--quality <pack>', 'run only the training-quality section: WGAN-GP vs logistic-R1, with and without DiffAugment, by SWD after --quality-minutes each, on this packed dataset')
    .option('--quality-minutes <m>', 'wall-clock minutes per configuration of the quality section', '5')
    .option('--json <file>', 'where to write the results (default bench/results/<time>.json)')
    .action((o: BenchOptions) => runBench(o));
}

async function runBench(o: BenchOptions): Promise<void> {
  const threads = intOption('--threads', o.threads, 1, 256);
  const ortOptions = { intraOpNumThreads: threads };
  const timing = o.quick ? { minRuns: 3, minTimeMs: 600 } : { minRuns: 5, minTimeMs: 2000 };
  const started = Date.now();
  const say = (m: string) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s] ${m}\n`);
  const machine = { cpus: os.availableParallelism(), cpuModel: os.cpus()[0]?.model, node: process.version, onnxruntime: ort.env.versions.node };
  const hostileSection = async () => {
    say(`hostile clients: flood, non-reader, /api/audio/devices burst, all three (attackers in child processes)…`);
    return benchHostile({ quick: o.quick }, say);
  };

  if (o.quality) {
    const minutes = Number(o.qualityMinutes);
    if (!(minutes > 0)) throw new RhodopsError('BAD_OPTION', `--quality-minutes must be a positive number, got '${o.qualityMinutes}'.`, { hint: 'e.g. --quality-minutes 5' });
    const quality = await benchPgganQuality({ data: path.resolve(o.quality), minutes }, say);
    process.stdout.write(
      [`PGGAN quality after ${minutes} min each (SWD ×1000 at the final resolution, lower is closer to the data):`, ...quality.map((q) => `  ${q.config.padEnd(28)} ${q.kimg.toFixed(1).padStart(6)} kimg  SWD ${q.swd === null ? '-' : q.swd.toFixed(1)}  MS-SSIM ${q.msssim?.toFixed(3) ?? '-'} (data ${q.msssimReal?.toFixed(3) ?? '-'})`)].join('\n') + '\n',
    );
    const file = o.json ?? path.join('bench', 'results', `quality-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, JSON.stringify({ date: new Date().toISOString(), machine, dataset: path.resolve(o.quality), quality }, null, 2) + '\n');
    process.stderr.write(`results written to ${file}\n`);
    return;
  }
  if (o.farmOnly) {
    say('render farm: local render, then 1 and 2 workers through a local redis-server…');
    const farm = await benchFarm({ quick: o.quick }, say);
    process.stdout.write(farmReport(farm).join('\n') + '\n');
    const file = o.json ?? path.join('bench', 'results', `farm-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, JSON.stringify({ date: new Date().toISOString(), quick: o.quick, machine, farm }, null, 2) + '\n');
    process.stderr.write(`results written to ${file}\n`);
    return;
  }
  if (o.hostileOnly) {
    const hostile = await hostileSection();
    process.stdout.write(['hostile clients (demo InfoGAN at 30 fps, one healthy client on its own thread, attackers in child processes):', ...hostileReport(hostile)].join('\n') + '\n');
    const file = o.json ?? path.join('bench', 'results', `hostile-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, JSON.stringify({ date: new Date().toISOString(), quick: o.quick, machine, hostile }, null, 2) + '\n');
    process.stderr.write(`results written to ${file}\n`);
    return;
  }

  await initBackend('wasm');
  say(`ORT matmul peak (${threads} thread${threads > 1 ? 's' : ''})…`);
  const peak = await ortMatmulPeak(ortOptions, o.quick ? [1024, 2048] : [512, 1024, 2048], o.quick ? 800 : 2000);
  const convGflops = await ortConvProbe(ortOptions, o.quick ? 800 : 2000);
  say(`  ${peak.gflops.toFixed(0)} GFLOPS at ${peak.size}×${peak.size}; 3×3 conv probe ${convGflops.toFixed(0)} GFLOPS`);

  let models = benchModels(o.quick);
  if (o.only) {
    const wanted = new Set(o.only.split(','));
    models = benchModels(false).filter((m) => wanted.has(m.id));
    if (models.length === 0) throw new RhodopsError('BAD_OPTION', `--only matched no model; ids are: ${benchModels(false).map((m) => m.id).join(', ')}.`);
  }
  const rows: GeneratorRow[] = [];
  for (const model of models) {
    for (const engine of ['ort', 'tfjs-wasm'] as const) {
      const batches = o.quick && engine === 'tfjs-wasm' ? [1] : [1, 4];
      say(`${engine} ${model.id} batch ${batches.join('/')}…`);
      const r = await benchGenerator(model, engine, batches, ortOptions, timing);
      for (const row of r) say(`  batch ${row.batch}: ${row.msPerFrame.toFixed(1)} ms/frame, ${row.fps.toFixed(1)} fps`);
      rows.push(...r);
    }
  }

  // GPU: each usable hardware provider against the CPU rows above; a software adapter is a CPU emulation, skipped.
  const survey = await surveyProviders();
  const usable = survey.offers.filter((p) => p.usable);
  const gpu: { provider: string; on: string; rows: GeneratorRow[] }[] = [];
  const gpuSkipped = usable.length === 0 ? `no hardware GPU provider here (${chooseAuto(survey.offers).why})` : null;
  if (gpuSkipped) say(`GPU: skipped: ${gpuSkipped}`);
  for (const p of usable) {
    const provided: GeneratorRow[] = [];
    for (const model of models) {
      say(`ORT on ${p.name} (${p.detail}) ${model.id}…`);
      provided.push(...(await benchGenerator(model, 'ort', o.quick ? [1] : [1, 4], { ...ortOptions, executionProvider: p.name, requireProvider: true }, timing)));
    }
    gpu.push({ provider: p.name, on: p.detail, rows: provided });
  }

  const training: TrainingRow[] = [];
  const pggan: PgganTrainingRow[] = [];
  const gpuTraining: TrainingRow[] = [];
  const gpuPggan: PgganTrainingRow[] = [];
  let gpuTrainingSkipped: string | null = o.training ? null : 'the training section did not run (--no-training)';
  if (o.training) {
    // One cpu step takes tens of seconds, so cpu runs once after no warm-up; quick mode uses a small batch.
    const batch = o.quick ? 8 : 32;
    say(`training: InfoGAN MNIST step, batch ${batch}, wasm…`);
    training.push(await benchInfoganTraining('wasm', batch, { minRuns: 3, minTimeMs: o.quick ? 1000 : 4000, warmup: 1 }));
    say(`training: the same on tfjs-cpu (slow: one step)…`);
    training.push(await benchInfoganTraining('cpu', batch, { minRuns: 1, minTimeMs: 0, warmup: 0 }));
    say(`training: PGGAN (the demo model's widths, batch 16) on wasm: the old configuration (one thread, WGAN-GP, tfjs's leakyRelu), one thread per core, and with logistic-R1…`);
    pggan.push(...(await benchPgganTraining({ resolutions: o.quick ? [16] : [16, 32, 64], timing: { minRuns: o.quick ? 1 : 2, minTimeMs: 0, warmup: 1 } })));
    // On a GPU: the same InfoGAN step and the logistic-R1 PGGAN step, one process, against wasm above.
    const gpuBackends = await gpuTrainingBackends(survey.adapters.adapters.some((a) => !a.software));
    gpuTrainingSkipped = gpuBackends.skipped;
    if (gpuTrainingSkipped) say(`training on a GPU: skipped: ${gpuTrainingSkipped}`);
    for (const backend of gpuBackends.usable) {
      say(`training on ${backend}: InfoGAN batch ${batch}, PGGAN logistic-R1 one process…`);
      gpuTraining.push(await benchInfoganTraining(backend, batch, { minRuns: 3, minTimeMs: o.quick ? 1000 : 4000, warmup: 1 }));
      gpuPggan.push(...(await benchPgganTraining({ backend, configs: [{ threads: 1, loss: 'logistic-r1' }], resolutions: o.quick ? [16] : [16, 32, 64], timing: { minRuns: o.quick ? 1 : 2, minTimeMs: 0, warmup: 1 } })));
    }
    await initBackend('wasm');
  }

  say('inputs: audio features, mapping…');
  const audio = benchAudioFeatures(o.quick ? 10 : 30);
  const mapping = benchMapping(o.quick ? { seconds: 5 } : {});
  say(`  features ×${audio.realtimeMultiple.toFixed(0)} real time (${audio.microsecondsPerFrame.toFixed(0)} µs per hop); mapping ${mapping.microsecondsPerEvaluate.toFixed(1)} µs per frame (${mapping.routes} routes)`);

  const server: ServerBench[] = [];
  if (o.server) {
    say('server: end to end vs engine alone, latency, clients…');
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'rhodops-bench-model-'));
    try {
      server.push(await benchServer(DEFAULT_MODEL, { quick: o.quick, full: true }, say));
      server.push(await benchServer(await pgganMid128(tmp), { quick: o.quick, full: false }, say));
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  }

  const hostile: HostileRow[] = [];
  if (o.hostile) hostile.push(...(await hostileSection()));

  const client: ClientBenchRow[] = [];
  if (o.client) {
    say('client: the output page in headless Chromium against 256² and 512² servers…');
    client.push(...(await benchClient({ quick: o.quick }, say)));
  }

  let render: { rows: RenderRow[]; upscale: UpscaleRow[] } | null = null;
  if (o.render) {
    say('render: offline music video at 30 fps, ESRGAN…');
    render = await benchRender({ quick: o.quick }, say);
  }

  let farm: FarmBench | null = null;
  if (o.farm && o.render) {
    say('render farm: local render, then 1 and 2 workers through a local redis-server…');
    farm = await benchFarm({ quick: o.quick }, say);
  }

  const augment: AugmentBenchRow[] = [];
  if (o.datasets) {
    say('datasets: augment (tiles, rotations, upscaling) and pack…');
    augment.push(...(await benchAugment({ quick: o.quick }, say)));
  }
  const stylize: StylizeBenchRow[] = [];
  if (o.datasets) {
    say('datasets: style transfer (dataset stylize), one thread…');
    stylize.push(...(await benchStylize({ quick: o.quick }, say)));
  }

  const pct = (g: number) => (100 * g) / peak.gflops;
  const table = formatTable(
    ['engine', 'model', 'batch', 'GFLOP/frame', 'ms/frame', 'fps', 'GFLOPS', '% matmul peak'],
    rows.map((r) => [r.engine, r.model, r.batch, r.gflopPerFrame.toFixed(2), r.msPerFrame.toFixed(1), r.fps.toFixed(1), r.gflops.toFixed(0), pct(r.gflops).toFixed(0)]),
  );
  const ratios = models.map((m) => {
    const find = (engine: string) => rows.find((r) => r.model === m.id && r.engine === engine && r.batch === 1);
    const a = find('ort');
    const b = find('tfjs-wasm');
    return { model: m.id, ortOverWasmFps: a && b ? a.fps / b.fps : null, ortPctOfPeak: a ? pct(a.gflops) : null };
  });
  const out = [
    `ORT matmul peak: ${peak.gflops.toFixed(0)} GFLOPS (${threads} thread${threads > 1 ? 's' : ''}, ${peak.size}²); ` +
      `3×3 conv probe (256 ch, 64²): ${convGflops.toFixed(0)} GFLOPS = ${pct(convGflops).toFixed(0)}% of the matmul peak`,
    '',
    table,
    '',
    'batch 1, same run:',
    ...ratios.map((r) => `  ${r.model.padEnd(18)} ORT at ${r.ortPctOfPeak?.toFixed(0)}% of peak; ORT/tfjs-wasm fps ×${r.ortOverWasmFps?.toFixed(1)}`),
    ...(training.length
      ? [
          '',
          'training (one D step + one G step):',
          formatTable(
            ['backend', 'model', 'batch', 'ms/step', 'steps/s', 'images/s'],
            training.map((t) => [t.backend, t.model, t.batch, t.msPerStep.toFixed(0), t.stepsPerSecond.toFixed(2), t.imagesPerSecond.toFixed(1)]),
          ),
          `  wasm/cpu speed ×${(training[1]!.msPerStep / training[0]!.msPerStep).toFixed(0)}`,
          ...pggan.map((p) => {
            const one = pggan.find((q) => q.resolution === p.resolution && q.old);
            const gain = one && one !== p ? ` (×${(p.imagesPerSecond / one.imagesPerSecond).toFixed(2)} the old configuration's)` : '';
            return `  PGGAN ${p.model} ${p.resolution}² batch ${p.batch} on ${p.backend}, ${p.config}: ${p.msPerStep.toFixed(0)} ms/step, ${p.imagesPerSecond.toFixed(2)} images/s${gain}`;
          }),
        ]
      : []),
    '',
    'inputs:',
    `  audio features: ×${audio.realtimeMultiple.toFixed(0)} real time (${audio.microsecondsPerFrame.toFixed(0)} µs per ${((512 / audio.sampleRate) * 1000).toFixed(1)} ms hop)`,
    `  mapping: ${mapping.microsecondsPerEvaluate.toFixed(1)} µs per frame for ${mapping.routes} routes (${(100 * mapping.shareOfFrameAt60).toFixed(3)}% of a 60 fps frame)`,
    ...(server.length
      ? [
          '',
          'live server (same run):',
          ...server.map((s) =>
            [
              `  ${s.model}: end-to-end ${s.endToEndFps.toFixed(0)} fps / engine alone ${s.engineOnlyFps.toFixed(0)} fps = ${s.ratio.toFixed(2)}`,
              s.latencyP95Ms !== undefined ? `; control→frame p50 ${s.latencyP50Ms!.toFixed(1)} ms, p95 ${s.latencyP95Ms.toFixed(1)} ms (frame interval ${s.frameIntervalMs!.toFixed(1)} ms)` : '',
              s.midiP95Ms !== undefined ? `; MIDI→frame p50 ${s.midiP50Ms!.toFixed(1)} ms, p95 ${s.midiP95Ms.toFixed(1)} ms` : '',
              s.ratio8 !== undefined ? `; 8 clients / 1: ${s.ratio8.toFixed(2)}` : '',
              s.slowReader ? `; slow reader ${s.slowReader.seconds} s: others ${s.slowReader.othersFps.toFixed(1)} fps, RSS +${(s.slowReader.rssMaxMB - s.slowReader.rssStartMB).toFixed(0)} MB` : '',
            ].join(''),
          ),
        ]
      : []),
    ...(hostile.length ? ['', 'hostile clients (demo InfoGAN at 30 fps, one healthy client on its own thread, attackers in child processes; same run):', ...hostileReport(hostile)] : []),
    ...(client.length
      ? [
          '',
          `output page (headless Chromium, WebGL2 on SwiftShader = this CPU, shared with the server; blend on; ${client[0]!.viewport}):`,
          formatTable(
            ['model', 'upscale', 'server fps', 'received/s', 'dropped', 'drawn/s', 'shown/s', 'delay p50 ms', 'delay p95 ms', 'render scale'],
            client.map((c) => [c.model, c.upscale, c.serverFps.toFixed(1), c.receivedFps.toFixed(1), c.droppedFrames, c.displayedFps.toFixed(1), c.shownFps.toFixed(1), c.delayP50Ms.toFixed(0), c.delayP95Ms.toFixed(0), c.renderScale.toFixed(2)]),
          ),
          '  drawn/s: distinct pictures (new frame or blend position); shown/s: received frames that reached the screen',
        ]
      : []),
    '',
    gpuSkipped
      ? `GPU: skipped: ${gpuSkipped}`
      : [
          'GPU (ONNX Runtime providers; ratio to the CPU row of the same model and batch, this run):',
          ...gpu.flatMap((g) =>
            g.rows.map((r) => {
              const cpu = rows.find((c) => c.engine === 'ort' && c.model === r.model && c.batch === r.batch);
              return `  ${g.provider} on ${g.on}: ${r.model} batch ${r.batch}: ${r.msPerFrame.toFixed(1)} ms/frame, ${r.fps.toFixed(1)} fps${cpu ? ` (×${(r.fps / cpu.fps).toFixed(2)} the CPU's)` : ''}`;
            }),
          ),
        ].join('\n'),
    gpuTrainingReport(gpuTrainingSkipped, { infogan: training, pggan }, { infogan: gpuTraining, pggan: gpuPggan }),
    ...(augment.length
      ? ['', 'datasets:', formatTable(['case', 'images', 'seconds', 'images/s'], augment.map((a) => [a.case, a.images, a.seconds.toFixed(1), a.imagesPerSecond.toFixed(1)]))]
      : []),
    ...(stylize.length
      ? ['', 'style transfer (one thread):', formatTable(['method', 'size', 's/pastiche'], stylize.map((r) => [r.case, `${r.size}²`, r.secondsPerPastiche.toFixed(1)]))]
      : []),
    ...(render
      ? [
          '',
          'offline render at 30 fps (whole command: decode, features, engine, x264; batch 4):',
          formatTable(
            ['model', 'precision', 'size', '× real time', 'frame loop × real time', 'loop fps', 'engine alone fps', 'loop / engine', 'PSNR vs fp32'],
            render.rows.map((r) => [r.model, r.precision, `${r.size}²`, r.realtimeMultiple.toFixed(2), r.loopRealtimeMultiple.toFixed(2), (r.loopRealtimeMultiple * 30).toFixed(1), Number.isFinite(r.engineFps) ? r.engineFps.toFixed(1) : '-', Number.isFinite(r.engineFps) ? ((r.loopRealtimeMultiple * 30) / r.engineFps).toFixed(2) : '-', r.psnrDb === null ? '-' : `${r.psnrDb.toFixed(1)} dB`]),
          ),
          `  ESRGAN ms/frame: ${render.upscale.map((u) => `${u.engine} ×${u.factor} ${u.input}² ${u.msPerFrame.toFixed(0)}`).join(', ')}`,
        ]
      : []),
    ...(farm ? ['', ...farmReport(farm)] : []),
  ].join('\n');
  process.stdout.write(out + '\n');

  const file = o.json ?? path.join('bench', 'results', `generators-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await fs.mkdir(path.dirname(file), { recursive: true });
  const report = {
    date: new Date().toISOString(),
    quick: o.quick,
    machine,
    ortThreads: threads,
    peak,
    convProbeGflops: convGflops,
    rows: rows.map((r) => ({ ...r, pctOfPeak: pct(r.gflops) })),
    training,
    pggan,
    inputs: { audio, mapping },
    server,
    hostile,
    client,
    render,
    farm,
    augment,
    stylize,
    gpu: { skipped: gpuSkipped, providers: gpu, training: { skipped: gpuTrainingSkipped, infogan: gpuTraining, pggan: gpuPggan } },
    ratios,
  };
  await fs.writeFile(file, JSON.stringify(report, null, 2) + '\n');
  process.stderr.write(`results written to ${file}\n`);
}

/**
 * The tfjs GPU backends to time: webgpu on a hardware adapter (never a software one: a CPU emulation), and
 * tfjs-node-gpu where it loads. Says why when there is none.
 */
async function gpuTrainingBackends(hardwareAdapter: boolean): Promise<{ usable: ('webgpu' | 'gpu')[]; skipped: string | null }> {
  const usable: ('webgpu' | 'gpu')[] = [];
  const why: string[] = [];
  if (hardwareAdapter) usable.push('webgpu');
  else why.push('webgpu: no hardware adapter');
  try {
    await initBackend('gpu');
    usable.push('gpu');
  } catch (e) {
    why.push(`tfjs-node-gpu: ${(messageOf(e).split('\n')[0] ?? '').replace(/^.*is unavailable: /, '')}`);
  }
  return { usable, skipped: usable.length === 0 ? why.join('; ') : null };
}

function gpuTrainingReport(skipped: string | null, cpu: { infogan: TrainingRow[]; pggan: PgganTrainingRow[] }, gpu: { infogan: TrainingRow[]; pggan: PgganTrainingRow[] }): string {
  if (skipped) return `training on a GPU: skipped: ${skipped}`;
  const ratio = (x: number, base: number | undefined) => (base ? ` (×${(x / base).toFixed(2)} wasm's)` : '');
  const wasmInfogan = cpu.infogan.find((r) => r.backend === 'wasm');
  return [
    'training on a GPU (images/s; ratio to wasm in this run: InfoGAN to one thread, PGGAN logistic-R1 to a thread per core):',
    ...gpu.infogan.map((r) => `  ${r.backend}: ${r.model} batch ${r.batch}: ${r.imagesPerSecond.toFixed(1)}${ratio(r.imagesPerSecond, wasmInfogan?.imagesPerSecond)}`),
    ...gpu.pggan.map((r) => {
      const base = cpu.pggan.find((c) => c.resolution === r.resolution && c.loss === r.loss && !c.old);
      return `  ${r.backend}: ${r.model} ${r.config}: ${r.imagesPerSecond.toFixed(1)}${ratio(r.imagesPerSecond, base?.imagesPerSecond)}`;
    }),
  ].join('\n');
}
