/** `rhodops worker`: the command line of a farm worker (worker.ts). */
import os from 'node:os';
import path from 'node:path';
import { Command, Option } from 'commander';
import { intOption } from '../../core/options.ts';
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '../../core/runtime/ort.ts';
import { ortOptionsFrom } from '../../server/ort-cli.ts';
import { defaultWorkerName, runWorker } from './worker.ts';

interface WorkerCliOptions {
  farm: string;
  farmDir?: string;
  cache: string;
  name?: string;
  lock: string;
  ep: ExecutionProvider;
  threads?: string;
}

export function workerCommand(): Command {
  return new Command('worker')
    .description('render segments for `rhodops render --farm` on this machine (run one per GPU, or several on a many-core CPU)')
    .requiredOption('--farm <url>', "the farm's Redis, as the render was given it (redis://HOST:PORT)")
    .option('--farm-dir <dir>', "the render's shared folder, as this machine mounts it (segments and models travel through it)")
    .option('--cache <dir>', 'where fetched models are kept, by hash (workers of one machine may share it; their scratch folders are here too)', path.join(os.homedir(), '.cache', 'rhodops', 'farm', 'models'))
    .option('--name <name>', 'this worker in the queue and the render log (default: host-pid)')
    .option('--lock <s>', "seconds a segment's lock lasts unrenewed: a killed worker's segment is given to another after about twice this", '30')
    // The precision is the render's (it decides the frames); the provider and threads are this machine's.
    .addOption(new Option('--ep <provider>', 'ONNX Runtime execution provider (auto: the best hardware one here; `rhodops gpu` lists them)').choices([...EXECUTION_PROVIDERS]).default('auto'))
    .option('--threads <n>', 'ONNX Runtime threads per operator')
    .action(async (o: WorkerCliOptions) => {
      const controller = new AbortController();
      const stop = () => (controller.signal.aborted ? process.exit(130) : controller.abort());
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      try {
        await runWorker({
          farm: o.farm,
          farmDir: o.farmDir ? path.resolve(o.farmDir) : null,
          cacheDir: path.resolve(o.cache),
          name: o.name ?? defaultWorkerName(),
          lockMs: intOption('--lock', o.lock, 1, 3600) * 1000,
          ort: ortOptionsFrom({ ep: o.ep, precision: 'fp32', ...(o.threads !== undefined ? { threads: o.threads } : {}) }),
          signal: controller.signal,
        });
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
}
