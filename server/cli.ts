/** `rhodops serve` (= `npm start`): the performance server on the bundled default model unless told otherwise. */
import path from 'node:path';
import { Command, Option } from 'commander';
import { endChildren } from '../core/children.ts';
import { checkRange, intOption } from '../core/options.ts';
import { BUILT_IN_MAPPINGS } from '../core/mapping/defaults.ts';
import { FPS_RANGE } from '../core/video.ts';
import { addOrtOptions, ortOptionsFrom, type OrtCliOptions } from './ort-cli.ts';
import { parseAudioSpec } from './inputs.ts';
import { defaultServeOptions, Server } from './server.ts';
import { DEFAULT_MODEL } from '../presets/bundled.ts';

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
  allowOrigin?: string[];
  smoothing?: string;
  mapping?: string;
  directions: 'random' | 'principal';
}

/** The longest a stop (SIGINT, SIGTERM) may take: takes are finished, audio and clients closed. */
const SHUTDOWN_MS = 4000;

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

export function serveCommand(): Command {
  const d = defaultServeOptions();
  return addOrtOptions(new Command('serve'))
    .description('the live performance server: renders the model, streams to the browser, records takes')
    .option('--model <path>', `checkpoint directory or .onnx file (default: the bundled ${path.basename(DEFAULT_MODEL)})`)
    .option('--host <addr>', 'address to listen on; anything but loopback requires an access token', d.host)
    .option('--port <n>', 'port (0: any free port)', String(d.port))
    .option('--fps <n>', "target frame rate (1–240), or 'max' for every frame the engine can make", String(d.fps))
    .option('--token <token>', 'access token (generated and printed when listening off loopback)')
    .option('--quality <q>', 'JPEG quality of the stream', String(d.jpegQuality))
    .option('--recordings <dir>', 'where takes are written', d.recordingsDir)
    .option('--midi <port>', "MIDI inputs: a name (any part), an index from 'rhodops midi list', all, or none", d.midi)
    .option('--audio <source>', "audio that drives the mapping: a file to play along, 'capture[:DEVICE]' (see 'rhodops audio list'), or 'browser'")
    .option('--audio-dir <dir...>', 'folders control pages may pick audio files from (default: the current folder)')
    .option('--allow-origin <origin...>', 'web pages served elsewhere that may control this server (e.g. http://192.168.1.20:3000); pages from other sites are refused')
    .addOption(new Option('--directions <kind>', "the knobs' latent directions: seeded random, or the model's principal ones (computed once, cached)").choices(['random', 'principal']).default('random'))
    .option('--mapping <file|name>', `a mapping JSON file, or a built-in one: ${Object.keys(BUILT_IN_MAPPINGS).join(', ')} (default: default; see README "Mappings")`)
    .option('--smoothing <s>', 'latent smoothing time constant in seconds (default 0.15; pulses skip it)')
    .action(async (o: ServeCliOptions) => {
      const int = (name: string, v: string, min: number, max: number) => intOption(`--${name}`, v, min, max);
      const spec = o.audio === undefined ? undefined : parseAudioSpec(o.audio);
      const audio = spec?.kind === 'file' ? { ...spec, path: path.resolve(spec.path) } : spec;
      const server = await Server.start({
        ...(o.model ? { model: path.resolve(o.model) } : {}),
        host: o.host,
        port: int('port', o.port, 0, 65535),
        fps: o.fps === 'max' ? 'max' : int('fps', o.fps, FPS_RANGE.min, FPS_RANGE.max),
        token: o.token ?? null,
        jpegQuality: int('quality', o.quality, 1, 100),
        ort: ortOptionsFrom(o),
        ...(o.recordings ? { recordingsDir: path.resolve(o.recordings) } : {}),
        midi: o.midi,
        directions: o.directions,
        ...(audio ? { audio } : {}),
        audioDirs: [...(o.audioDir ?? [process.cwd()]).map((dir) => path.resolve(dir)), ...(audio?.kind === 'file' ? [path.dirname(audio.path)] : [])],
        ...(o.mapping ? { mapping: o.mapping in BUILT_IN_MAPPINGS ? o.mapping : path.resolve(o.mapping) } : {}),
        ...(o.smoothing !== undefined ? { smoothing: checkRange('--smoothing', Number(o.smoothing), { min: 0, max: 30, unit: ' s' }) } : {}),
        allowOrigins: o.allowOrigin ?? [],
      });
      const q = server.token ? `?token=${server.token}` : '';
      process.stdout.write(`rhodops is playing. Open ${server.url}${q} (controls) or ${server.url}output${q} (projector).\n`);
      if (server.token) process.stdout.write(`access token: ${server.token}\n`);
      await untilSignal();
      process.stdout.write('stopping…\n');
      // Whatever happens in close(), the process ends within SHUTDOWN_MS with no child left behind; a second
      // Ctrl-C ends it at once.
      const force = (why: string, code: number) => {
        void endChildren(500).then((n) => {
          process.stderr.write(`${why}${n ? `; ended ${n} child process(es)` : ''}\n`);
          process.exit(code);
        });
      };
      const timer = setTimeout(() => force(`stopping took over ${SHUTDOWN_MS / 1000} s`, 1), SHUTDOWN_MS);
      const again = () => force('stopped at once', 130);
      process.once('SIGINT', again);
      process.once('SIGTERM', again);
      await server.close();
      clearTimeout(timer);
      await endChildren(500);
      // Nothing of ours is left running; a library's stray handle must not keep the process alive.
      setTimeout(() => process.exit(process.exitCode ?? 0), 200).unref();
    });
}
