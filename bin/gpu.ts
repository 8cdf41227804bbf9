/** `rhodops gpu`: the machine's GPUs as rhodops sees them, and what `auto` chooses for playing and for training. */
import { Command } from 'commander';
import { initBackend } from '../core/backend.ts';
import { logLevel, setLogLevel } from '../core/log.ts';
import { chooseAuto, surveyProviders } from '../core/gpu/providers.ts';

export function gpuCommand(): Command {
  return new Command('gpu')
    .description('list WebGPU adapters (hardware or software) and ONNX Runtime providers, and what --ep auto and --backend auto choose')
    .option('--json', 'print the survey as JSON', false)
    .action(async (o: { json: boolean }) => {
      const survey = await surveyProviders();
      const play = chooseAuto(survey.offers);
      // The backend's own log line would repeat what the survey below says.
      const level = logLevel();
      setLogLevel('warn');
      const train = await initBackend('auto').finally(() => setLogLevel(level));
      if (o.json) {
        process.stdout.write(JSON.stringify({ ...survey, auto: { play, train: { backend: train.name, skipped: train.reasons } } }, null, 2) + '\n');
        return;
      }
      const lines = ['WebGPU adapters (through Dawn, the `webgpu` package):'];
      if (survey.adapters.adapters.length === 0) lines.push(`  none: ${survey.adapters.error ?? 'no adapter'}`);
      for (const a of survey.adapters.adapters) {
        lines.push(`  ${a.name} — ${a.vendor || '?'} ${a.architecture}, ${a.software ? 'SOFTWARE (a CPU emulation: tests only)' : 'hardware'}`);
      }
      lines.push('', 'ONNX Runtime providers (playing: serve, render, sheet, info):', '  cpu: always');
      for (const p of survey.offers) lines.push(`  ${p.name}: ${p.usable ? 'yes' : 'no'} — ${p.detail}`);
      lines.push(`  --ep auto → ${play.provider}${play.provider === 'cpu' ? ` (${play.why})` : ` on ${play.why}`}`);
      lines.push('', 'tfjs backends (training):', `  --backend auto → ${train.name}`);
      for (const r of train.reasons) lines.push(`  skipped ${r}`);
      process.stdout.write(lines.join('\n') + '\n');
    });
}
