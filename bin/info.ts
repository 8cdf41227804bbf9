/** `rhodops info MODEL`: what a checkpoint or ONNX file is, and one test frame through the engine. */
import { Command, Option } from 'commander';
import { BACKEND_CHOICES, initBackend } from '../core/backend.ts';
import { openGenerator, type EngineName } from '../core/runtime/open.ts';
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '../core/runtime/ort.ts';
import { exportServing } from '../core/checkpoint/serving.ts';
import { intOption } from '../core/options.ts';

export function infoCommand(): Command {
  return new Command('info')
    .description('describe a checkpoint directory or .onnx generator and time one frame')
    .argument('<model>', 'checkpoint directory or .onnx file')
    .addOption(new Option('--engine <engine>', 'generator engine').choices(['ort', 'tfjs']).default('ort'))
    .addOption(new Option('--ep <provider>', 'ONNX Runtime execution provider (auto: the best hardware one here; `rhodops gpu` lists them)').choices([...EXECUTION_PROVIDERS]).default('auto'))
    .option('--backend <name>', `tfjs backend for --engine tfjs: ${BACKEND_CHOICES}`, 'auto')
    .action(async (model: string, o: { engine: EngineName; ep: ExecutionProvider; backend: string }) => {
      if (o.engine === 'tfjs') await initBackend(o.backend);
      const gen = await openGenerator(model, { engine: o.engine, ort: { executionProvider: o.ep } });
      try {
        const { info } = gen;
        const t0 = performance.now();
        await gen.generate(new Float32Array(info.latent.size), 1);
        const ms = performance.now() - t0;
        const codes = [
          `${info.latent.noise} noise`,
          ...info.latent.categorical.map((n, i) => `categorical #${i} (${n} values)`),
          ...(info.latent.continuous ? [`${info.latent.continuous} continuous`] : []),
        ];
        process.stdout.write(
          [
            `model:    ${info.name} (${info.kind})`,
            `output:   ${info.width}×${info.height}, ${info.channels === 1 ? 'grayscale' : 'RGB'} (${info.output.layout}, ${info.output.range})`,
            `latent:   ${info.latent.size} values: ${codes.join(', ')}`,
            `engine:   ${info.engine}`,
            `frame:    ${ms.toFixed(1)} ms (first, includes warm-up)`,
          ].join('\n') + '\n',
        );
      } finally {
        await gen.dispose();
      }
    });
}

export function exportCommand(): Command {
  return new Command('export')
    .description("copy a checkpoint for serving or sharing: manifest, generator.onnx, the generator's weights and samples, without training state")
    .argument('<checkpoint>', 'checkpoint directory')
    .argument('<out>', 'directory to write')
    .option('--no-samples', 'leave the sample sheets out')
    .option('--no-weights', "leave the generator's float weights out (the copy then plays on ONNX Runtime in float32 only)")
    .option('--name <name>', 'the name the copy is listed and played under (default: the checkpoint\'s)')
    .option('--resolution <px>', "a PGGAN's picture at an earlier resolution of its growth (e.g. 64 from a run now fading in 128²)", (t: string) => intOption('--resolution', t, 4, 4096))
    .action(async (src: string, out: string, o: { samples: boolean; weights: boolean; name?: string; resolution?: number }) => {
      const m = await exportServing(src, out, { samples: o.samples, weights: o.weights, ...(o.name ? { name: o.name } : {}), ...(o.resolution ? { resolution: o.resolution } : {}) });
      const bytes = Object.values(m.files).reduce((s, f) => s + f.bytes, 0);
      process.stdout.write(`${out}: ${m.kind} ${m.resolution}×${m.resolution}, ${(bytes / 1e6).toFixed(1)} MB\n`);
    });
}
