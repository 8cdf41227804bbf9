/** The ONNX Runtime options that `serve` and `render` both take, declared and read in one place. */
import { Option, type Command } from 'commander';
import { RhodopsError } from '../core/errors.ts';
import { EXECUTION_PROVIDERS, PRECISIONS, type ExecutionProvider, type OrtOptions, type Precision } from '../core/runtime/ort.ts';

export interface OrtCliOptions {
  ep: ExecutionProvider;
  threads?: string;
  precision: Precision;
}

export function addOrtOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--ep <provider>', 'ONNX Runtime execution provider (auto: the best hardware one here; `rhodops gpu` lists them)').choices([...EXECUTION_PROVIDERS]).default('auto'))
    .option('--threads <n>', 'ONNX Runtime threads per operator')
    .addOption(
      new Option('--precision <p>', 'int8: PGGAN convolutions in 8-bit integers on CPU, calibrated when the model opens (faster; PSNR against float32 is logged)')
        .choices([...PRECISIONS])
        .default('fp32'),
    );
}

export function ortOptionsFrom(o: OrtCliOptions): Partial<OrtOptions> {
  const threads = o.threads === undefined ? undefined : Number(o.threads);
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1 || threads > 256)) {
    throw new RhodopsError('BAD_OPTION', `--threads must be an integer from 1 to 256, got '${o.threads}'`);
  }
  return { executionProvider: o.ep, precision: o.precision, ...(threads ? { intraOpNumThreads: threads } : {}) };
}
