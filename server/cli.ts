/** `rhodops serve` (= `npm start`): the performance server on the bundled demo model unless told otherwise. */
import path from 'node:path';
import { Command, Option } from 'commander';
import { RhodopsError } from '../core/errors.ts';
import { addOrtOptions, ortOptionsFrom, type OrtCliOptions } from './ort-cli.ts';
import { parseAudioSpec } from './inputs.ts';
import { defaultServeOptions, Server } from './server.ts';

interface ServeCliOptions extends OrtCliOptions {
  model?: string;
  host: string;
  port: string;
  fps: string;
  token?: string;
  quality: string;
  recordings?: string;
  midi: string;
  audio?: string;
  audioDir?: string[];
  mapping?: string;
  directions: 'random' | 'principal';
}

export function serveCommand(): Command {
  const d = defaultServeOptions();
  return addOrtOptions(new Command('serve'))
    .description('the live performance server: renders the model, streams to the browser, records takes')
    .option('--model <path>', 'checkpoint directory or .onnx file (default: the bundled InfoGAN MNIST demo)')
    .option('--host <addr>', 'address to listen on; anything but loopback requires an access token', d.host)
    .option('--port <n>', 'port (0: any free port)', String(d.port))
    .option('--fps <n>', "target frame rate (1–240), or 'max' for every frame the engine can make", String(d.fps))
    .option('--token <token>', 'access token (generated and printed when listening off loopback)')
    .option('--quality <q>', 'JPEG quality of the stream', String(d.jpegQuality))
    .option('--recordings <dir>', 'where takes are written', d.recordingsDir)
    .option('--midi <port>', "MIDI inputs: a name (any part), an index from 'rhodops midi list', all, or none", d.midi)
    .option('--audio <source>', "audio that drives the mapping: a file to play along, 'capture[:DEVICE]' (see 'rhodops audio list'), or 'browser'")
    .option('--audio-dir <dir...>', 'folders control pages may pick audio files from (default: the current folder)')
    .addOption(new Option('--directions <kind>', "the knobs' latent directions: seeded random, or the model's principal ones (computed once, cached)").choices(['random', 'principal']).default('random'))
    .option('--mapping <file>', 'a mapping JSON file (default: the built-in mapping; see README "Mappings")')
    .action(async (o: ServeCliOptions) => {
      const int = (name: string, v: string, min: number, max: number) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < min || n > max) throw new RhodopsError('BAD_OPTION', `--${name} must be an integer from ${min} to ${max}, got '${v}'`);
        return n;
      };
      const spec = o.audio === undefined ? undefined : parseAudioSpec(o.audio);
      const audio = spec?.kind === 'file' ? { ...spec, path: path.resolve(spec.path) } : spec;
      const server = await Server.start({
        ...(o.model ? { model: path.resolve(o.model) } : {}),
        host: o.host,
        port: int('port', o.port, 0, 65535),
        fps: o.fps === 'max' ? 'max' : int('fps', o.fps, 1, 240),
        token: o.token ?? null,
        jpegQuality: int('quality', o.quality, 1, 100),
        ort: ortOptionsFrom(o),
        ...(o.recordings ? { recordingsDir: path.resolve(o.recordings) } : {}),
        midi: o.midi,
        directions: o.directions,
        ...(audio ? { audio } : {}),
        audioDirs: [...(o.audioDir ?? [process.cwd()]).map((dir) => path.resolve(dir)), ...(audio?.kind === 'file' ? [path.dirname(audio.path)] : [])],
        ...(o.mapping ? { mapping: path.resolve(o.mapping) } : {}),
      });
      const q = server.token ? `?token=${server.token}` : '';
      process.stdout.write(`rhodops is playing. Open ${server.url}${q} (controls) or ${server.url}output${q} (projector).\n`);
      if (server.token) process.stdout.write(`access token: ${server.token}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.stdout.write('stopping…\n');
          void server.close().then(resolve);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
