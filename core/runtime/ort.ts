/**
 * ONNX Runtime generator: what the server runs. `auto` plays on the best hardware provider present
 * (core/gpu/providers.ts), a named provider when asked for and available, else CPU with one clear log line.
 */
import os from 'node:os';
import * as ort from 'onnxruntime-node';
import { RhodopsError, messageOf } from '../errors.ts';
import { checkRange } from '../options.ts';
import { logger } from '../log.ts';
import { checkLatents, rawToFloat, rawToRgb, type RawImages } from './frames.ts';
import type { FloatBatch, Generator, GeneratorInfo, RgbBatch } from './types.ts';
import { describeSignature, type OnnxSignature } from './signature.ts';
import { chooseAuto, missingProviderLibrary, surveyProviders } from '../gpu/providers.ts';
import { gpuEnvironment } from '../gpu/adapters.ts';
import type { LatentSpec, OutputSpec } from '../checkpoint/manifest.ts';

const log = logger('ort');

export const EXECUTION_PROVIDERS = ['auto', 'cpu', 'webgpu', 'coreml', 'dml', 'cuda', 'tensorrt'] as const;
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];

/** Arithmetic of the convolutions: float32, or int8 (PGGAN on CPU; see int8.ts). */
export const PRECISIONS = ['fp32', 'int8'] as const;
export type Precision = (typeof PRECISIONS)[number];

export interface OrtOptions {
  executionProvider: ExecutionProvider;
  /** Fail instead of falling back to CPU when the provider is missing. */
  requireProvider: boolean;
  /** Threads for one operator; on a 2-vCPU laptop 2 is fastest only when nothing else runs. */
  intraOpNumThreads: number;
  /** Busy-wait between ops: a little lower latency, a whole core burnt while idle. Off by default. */
  spinning: boolean;
  precision: Precision;
}

export function defaultOrtOptions(): OrtOptions {
  return { executionProvider: 'cpu', requireProvider: false, intraOpNumThreads: Math.min(os.availableParallelism(), 4), spinning: false, precision: 'fp32' };
}

export function checkOrtOptions(o: OrtOptions): void {
  if (!EXECUTION_PROVIDERS.includes(o.executionProvider)) {
    throw new RhodopsError('BAD_OPTION', `Unknown execution provider '${String(o.executionProvider)}'.`, {
      hint: `Use one of: ${EXECUTION_PROVIDERS.join(', ')}.`,
    });
  }
  if (!PRECISIONS.includes(o.precision)) {
    throw new RhodopsError('BAD_OPTION', `Unknown precision '${String(o.precision)}'.`, { hint: `Use one of: ${PRECISIONS.join(', ')}.` });
  }
  checkRange('intraOpNumThreads', o.intraOpNumThreads, { min: 1, max: 256, integer: true });
}

const providerHint = (p: string): string =>
  p === 'cuda' || p === 'tensorrt'
    ? 'Install the GPU providers: ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node (needs CUDA 12 and cuDNN 9; TensorRT 10 for tensorrt). See README "GPU".'
    : `\`rhodops gpu\` lists what this machine offers. See README "GPU".`;

function sessionOptions(o: OrtOptions, providers: Exclude<ExecutionProvider, 'auto'>[]): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: providers,
    intraOpNumThreads: o.intraOpNumThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: o.spinning ? '1' : '0' }, inter_op: { allow_spinning: o.spinning ? '1' : '0' } } },
  };
}

let autoChoice: Promise<Exclude<ExecutionProvider, 'auto'>> | null = null;

/** `--ep auto`'s provider, surveyed and said once per process (every model switch and upscaler opens a session). */
function autoProvider(): Promise<Exclude<ExecutionProvider, 'auto'>> {
  autoChoice ??= surveyProviders().then(({ offers }) => {
    const choice = chooseAuto(offers);
    log.info(choice.provider === 'cpu' ? `--ep auto: playing on the CPU (${choice.why})` : `--ep auto: playing on ${choice.provider} (${choice.why})`);
    return choice.provider;
  });
  return autoChoice;
}

/** Creates a session with the requested provider, or CPU after saying why. Returns what it used. */
export async function createSession(
  model: Uint8Array,
  o: OrtOptions,
  where: string,
): Promise<{ session: ort.InferenceSession; provider: Exclude<ExecutionProvider, 'auto'> }> {
  checkOrtOptions(o);
  const create = (providers: Exclude<ExecutionProvider, 'auto'>[]) =>
    ort.InferenceSession.create(model, sessionOptions(o, providers)).catch((e: unknown) => {
      throw new RhodopsError('ONNX_INVALID', `ONNX Runtime could not load ${where}: ${messageOf(e).split('\n')[0]}`, {
        hint: 'The file is truncated, corrupt or not an ONNX model; re-export it or use another checkpoint.',
        cause: e,
      });
    });
  let wanted = o.executionProvider;
  // int8 is a CPU path: its quantized convolutions are what makes it fast there.
  if (wanted === 'auto' && o.precision === 'int8') wanted = 'cpu';
  if (wanted === 'auto') wanted = await autoProvider();
  if (wanted === 'cpu') return { session: await create(['cpu']), provider: 'cpu' };
  // Dawn (webgpu) needs a writable XDG_RUNTIME_DIR on Linux; ORT reads the environment when it starts Dawn.
  if (wanted === 'webgpu') process.env['XDG_RUNTIME_DIR'] = gpuEnvironment()['XDG_RUNTIME_DIR'];

  let why: string;
  const listed = ort.listSupportedBackends().find((b) => b.name === wanted);
  const missing = listed && (wanted === 'cuda' || wanted === 'tensorrt') ? missingProviderLibrary(wanted) : null;
  if (!listed) {
    why = `this onnxruntime-node build has no '${wanted}' provider`;
  } else if (missing) {
    why = missing;
  } else {
    try {
      // Severity 4 (fatal only): ORT's own stderr line would repeat what the warning below says.
      const quiet = { ...sessionOptions(o, [wanted, 'cpu']), logSeverityLevel: 4 as const };
      return { session: await ort.InferenceSession.create(model, quiet), provider: wanted };
    } catch (e) {
      why = messageOf(e).split('\n')[0] ?? 'unknown error';
    }
  }
  if (o.requireProvider) {
    throw new RhodopsError('EXECUTION_PROVIDER_UNAVAILABLE', `The ${wanted} execution provider is not available: ${why}.`, {
      hint: providerHint(wanted),
    });
  }
  log.warn(`${wanted} execution provider unavailable (${why}); running on CPU. ${providerHint(wanted)}`);
  return { session: await create(['cpu']), provider: 'cpu' };
}

export interface OrtModelDescription {
  name: string;
  kind: GeneratorInfo['kind'];
  /** Where the model came from, for error messages. */
  where: string;
  /** From a manifest or the model's metadata; inferred from the model where absent. */
  latent?: LatentSpec | undefined;
  output?: OutputSpec | undefined;
  inputName?: string | undefined;
  outputName?: string | undefined;
  /** The model was quantized to int8 (shown in the engine's name). */
  int8?: boolean;
}

export class OrtGenerator implements Generator {
  readonly info: GeneratorInfo;
  private session: ort.InferenceSession | null;
  private readonly signature: OnnxSignature;

  private constructor(session: ort.InferenceSession, signature: OnnxSignature, info: GeneratorInfo) {
    this.session = session;
    this.signature = signature;
    this.info = info;
  }

  static async open(model: Uint8Array, desc: OrtModelDescription, options: Partial<OrtOptions> = {}): Promise<OrtGenerator> {
    const o = { ...defaultOrtOptions(), ...options };
    const { session, provider } = await createSession(model, o, desc.where);
    try {
      const signature = await describeSignature(session, {
        where: desc.where,
        inputName: desc.inputName,
        outputName: desc.outputName,
        latentSize: desc.latent?.size,
        layout: desc.output?.layout,
      });
      if (!desc.output) log.info(`${desc.where}: no output range given; assuming -1..1 (say otherwise in a manifest.json)`);
      const engine = `onnxruntime ${provider}${provider === 'cpu' ? `, ${o.intraOpNumThreads} thread${o.intraOpNumThreads > 1 ? 's' : ''}` : ''}${desc.int8 ? ', int8' : ''}`;
      return new OrtGenerator(session, signature, {
        name: desc.name,
        kind: desc.kind,
        engine,
        width: signature.width,
        height: signature.height,
        channels: signature.channels,
        latent: desc.latent ?? { size: signature.latentSize, noise: signature.latentSize, categorical: [], continuous: 0, distribution: 'normal' },
        output: desc.output ?? { layout: signature.layout, range: '-1..1' },
      });
    } catch (e) {
      await session.release();
      throw e;
    }
  }

  private async runRaw(latents: Float32Array, batch: number): Promise<RawImages> {
    if (!this.session) throw new Error('OrtGenerator used after dispose()');
    checkLatents(latents, batch, this.info.latent.size, this.info.name);
    const dims = this.signature.inputRank === 4 ? [batch, this.info.latent.size, 1, 1] : [batch, this.info.latent.size];
    const feeds = { [this.signature.input]: new ort.Tensor('float32', latents, dims) };
    const result = await this.session.run(feeds);
    const out = result[this.signature.output];
    if (!out) throw new Error(`ONNX Runtime returned no '${this.signature.output}' output`);
    const data = out.data as Float32Array;
    for (const t of Object.values(result)) if (t !== out) t.dispose();
    return {
      data,
      batch,
      channels: this.info.channels,
      height: this.info.height,
      width: this.info.width,
      spec: this.info.output,
    };
  }

  async generate(latents: Float32Array, batch: number): Promise<RgbBatch> {
    return rawToRgb(await this.runRaw(latents, batch));
  }

  async generateFloat(latents: Float32Array, batch: number): Promise<FloatBatch> {
    return rawToFloat(await this.runRaw(latents, batch));
  }

  async dispose(): Promise<void> {
    const s = this.session;
    this.session = null;
    await s?.release();
  }
}
