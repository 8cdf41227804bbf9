/**
 * Feature networks for optimisation-based style transfer (gatys.ts): something that turns an image into a few
 * layers of activations whose Gram matrices describe texture. Two sources:
 *
 * - random multi-scale filters (after Ustyuzhaninov, Brendel, Gatys & Bethge 2016, "Texture synthesis using
 *   shallow convolutional networks with random filters"): one ReLU conv layer of seeded Gaussian filters of
 *   several sizes, applied to the image and to its 2×, 4×, 8× averaged copies. Built in, nothing to download.
 * - a VGG-like network read from the user's ONNX file (VGG19 from the ONNX model zoo or exported from
 *   torchvision): the Conv/Relu/pool chain at the start of the graph, rebuilt in tfjs.
 *
 * Both take RGB images in 0..255, NHWC, and normalise inside, so the optimiser never needs to know which net it
 * drives. Weights are tfjs tensors owned by the net: call dispose() when done.
 */
import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import onnxProto from 'onnx-proto';
import { RhodopsError, messageOf } from '../../core/errors.ts';
import { checkRange, mergeOptions } from '../../core/options.ts';
import { gaussianArray, rng as seeded } from '../../core/random.ts';
import { transposeData } from '../../core/onnx/graph.ts';

type ITensorProto = onnxProto.onnx.ITensorProto;
type INodeProto = onnxProto.onnx.INodeProto;
type IAttributeProto = onnxProto.onnx.IAttributeProto;

export interface FeatureLayer {
  /** How gatys.ts and callers name it: 'octave0', 'relu1_1', 'pool2'. */
  name: string;
  channels: number;
  /** Input pixels per activation along each side (1 at full resolution, 2 after one 2× pooling…). */
  stride: number;
  /** The tensor's name in the ONNX file, for nets read from one. */
  source?: string;
}

export type FeatureNetKind = 'random' | 'onnx';

export interface FeatureNet {
  readonly kind: FeatureNetKind;
  /** One line for logs and reports: what the net is and where it came from. */
  readonly description: string;
  /** Every layer `activations` can return, shallow to deep. */
  readonly layers: readonly FeatureLayer[];
  /** The layers whose Gram matrices are the style, unless a caller chooses others. */
  readonly styleLayers: readonly string[];
  /** The layer whose activations are the content, unless a caller chooses another. */
  readonly contentLayer: string;
  /**
   * Activations of `names` (in that order, NHWC) for `image`: [1, H, W, 3] RGB in 0..255. The caller owns the
   * returned tensors; differentiable with respect to `image`.
   */
  activations(image: tf.Tensor4D, names: readonly string[]): tf.Tensor4D[];
  dispose(): void;
}

/** Layer names that `net` does not have, for an error message. */
export function unknownLayers(net: FeatureNet, names: readonly string[]): string[] {
  return names.filter((n) => !net.layers.some((l) => l.name === n));
}

// ---------------------------------------------------------------------------------------------------------
// Random multi-scale filters

export interface RandomFilterOptions {
  /** Seed of the filter weights: the same seed gives the same net. */
  seed: number;
  /** Filter sides, all applied at every octave (the paper's multi-scale model: 3 to 55 at one resolution). */
  sizes: number[];
  /** Filters per size and octave. */
  filters: number;
  /**
   * Resolutions: the image, then averaged 2×, 4×… Large structures cost little at a coarse octave, where the
   * paper used filters up to 55 pixels wide at full resolution.
   */
  octaves: number;
}

/**
 * Filters 3, 5 and 7 wide at 4 octaves reach 56 pixels, about the paper's largest filter, for a small part of its
 * cost. 32 filters per size, 96 maps per octave: 96 per size and an 11-wide size as well looked barely different
 * on wallpapers and took 10× as long (scratch/gatys-try.ts).
 */
export const DEFAULT_RANDOM_FILTERS: Readonly<RandomFilterOptions> = { seed: 1, sizes: [3, 5, 7], filters: 32, octaves: 4 };

const randomWhere = 'random filter options';

/**
 * A net of seeded random filters. Each octave is one layer: the image averaged 2^o × 2^o, convolved with
 * `filters` Gaussian filters of each size (smaller ones zero-padded to the largest, so one conv does them all),
 * plus a random bias, through a ReLU. The input is centred and scaled to about unit variance first.
 */
export function randomFeatureNet(options?: Partial<RandomFilterOptions>): FeatureNet {
  const o = mergeOptions(randomWhere, { ...DEFAULT_RANDOM_FILTERS, sizes: [...DEFAULT_RANDOM_FILTERS.sizes] }, options);
  checkRange('seed', o.seed, { min: 0, max: 2 ** 32 - 1, integer: true }, { where: randomWhere });
  if (!Array.isArray(o.sizes) || o.sizes.length < 1 || o.sizes.length > 8) {
    throw new RhodopsError('BAD_OPTION', `${randomWhere}: sizes must be a list of 1 to 8 filter sides, got ${String(o.sizes)}.`, { hint: 'pass e.g. [3, 5, 7]' });
  }
  o.sizes.forEach((s, i) => checkRange(`sizes[${i}]`, s, { min: 1, max: 63, integer: true }, { where: randomWhere, hint: 'pass odd filter sides from 1 to 63' }));
  if (o.sizes.some((s) => s % 2 === 0)) {
    throw new RhodopsError('BAD_OPTION', `${randomWhere}: filter sides must be odd (centred), got ${o.sizes.join(', ')}.`, { hint: 'pass odd sides, e.g. [3, 5, 7]' });
  }
  checkRange('filters', o.filters, { min: 1, max: 512, integer: true }, { where: randomWhere });
  checkRange('octaves', o.octaves, { min: 1, max: 6, integer: true }, { where: randomWhere });

  const k = Math.max(...o.sizes);
  const channels = o.sizes.length * o.filters;
  const kernels: tf.Tensor4D[] = [];
  const biases: tf.Tensor1D[] = [];
  const owned: tf.Tensor[] = [];
  for (let oct = 0; oct < o.octaves; oct++) {
    // [k, k, 3, channels]: filter f of size s occupies the centred s × s window of its slice.
    const w = new Float32Array(k * k * 3 * channels);
    o.sizes.forEach((s, si) => {
      // He-style scale, 1/sqrt(fan-in), so every size gives pre-activations of about unit variance.
      const g = gaussianArray(s * s * 3 * o.filters, hashSeed(o.seed, oct, si), 1 / Math.sqrt(s * s * 3));
      const off = (k - s) / 2;
      let i = 0;
      for (let f = 0; f < o.filters; f++) {
        const ch = si * o.filters + f;
        for (let y = 0; y < s; y++) {
          for (let x = 0; x < s; x++) {
            for (let c = 0; c < 3; c++) w[(((y + off) * k + (x + off)) * 3 + c) * channels + ch] = g[i++]!;
          }
        }
      }
    });
    const r = seeded(hashSeed(o.seed, oct, 99));
    // Random thresholds, so units switch on at different contrasts rather than all at zero response.
    const b = Float32Array.from({ length: channels }, () => r() - 0.5);
    kernels.push(tf.tensor4d(w, [k, k, 3, channels]));
    biases.push(tf.tensor1d(b));
  }
  const layers = kernels.map((_, oct) => ({ name: `octave${oct}`, channels, stride: 2 ** oct }));
  const pad = (k - 1) / 2;
  const blur = binomialKernel();
  owned.push(blur);
  // Binomial blur then every other pixel: a box average's gradient is flat over each 2^o block, and the
  // coarse octaves then print a grid of blocks on the pastiche.
  const halve = (x: tf.Tensor4D): tf.Tensor4D => {
    const [, h, w] = x.shape;
    if (h < 3 || w < 3) return tf.avgPool(x, 2, 2, 'valid');
    return tf.conv2d(tf.mirrorPad(x, [[0, 0], [2, 2], [2, 2], [0, 0]], 'reflect'), blur, 2, 'valid');
  };
  let disposed = false;
  return {
    kind: 'random',
    description: `random filters (seed ${o.seed}; sides ${o.sizes.join(', ')}; ${o.filters} each; ${o.octaves} octaves)`,
    layers,
    styleLayers: layers.map((l) => l.name),
    // The second octave holds the layout but not the finest grain, which is then left to the style (Gatys et
    // al. take a deep layer for the same reason).
    contentLayer: layers[Math.min(1, layers.length - 1)]!.name,
    activations(image, names) {
      if (disposed) throw new Error('random feature net: used after dispose()');
      const wanted = names.map((n) => {
        const i = layers.findIndex((l) => l.name === n);
        if (i < 0) throw new RhodopsError('BAD_OPTION', `random feature net: no layer '${n}'; it has ${layers.map((l) => l.name).join(', ')}.`, { hint: 'pick layers from that list' });
        return i;
      });
      const deepest = Math.max(...wanted);
      return tf.tidy(() => {
        const outs: tf.Tensor4D[] = [];
        // About unit scale for a contrasty image; the scale only decides where the random thresholds fall.
        let x: tf.Tensor4D = tf.div(tf.sub(image, 127.5), 64);
        for (let oct = 0; oct <= deepest; oct++) {
          if (oct > 0) x = halve(x);
          // Mirrored borders: zeros would be a grey frame that the style's Gram matrices would have to explain.
          const small = Math.min(x.shape[1], x.shape[2]) <= pad;
          const conv = small ? tf.conv2d(x, kernels[oct]!, 1, 'same') : tf.conv2d(tf.mirrorPad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]], 'reflect'), kernels[oct]!, 1, 'valid');
          outs.push(tf.relu(tf.add<tf.Tensor4D>(conv, biases[oct]!)));
        }
        return wanted.map((i) => outs[i]!);
      });
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      tf.dispose([...kernels, ...biases, ...owned]);
    },
  };
}

/** [5, 5, 3, 3]: the 5-tap binomial low-pass (1 4 6 4 1)/16 in both directions, each channel to itself. */
function binomialKernel(): tf.Tensor4D {
  const taps = [1, 4, 6, 4, 1].map((v) => v / 16);
  const w = new Float32Array(5 * 5 * 3 * 3);
  for (let y = 0; y < 5; y++) for (let x = 0; x < 5; x++) for (let c = 0; c < 3; c++) w[((y * 5 + x) * 3 + c) * 3 + c] = taps[y]! * taps[x]!;
  return tf.tensor4d(w, [5, 5, 3, 3]);
}

/** A 31-bit seed from a few integers, so each octave and size draws its own stream. */
function hashSeed(...v: number[]): number {
  let h = 0x811c9dc5;
  for (const x of v) h = Math.imul(h ^ (x >>> 0), 0x01000193) ^ (h >>> 13);
  return (h >>> 0) & 0x7fffffff;
}

// ---------------------------------------------------------------------------------------------------------
// VGG from an ONNX file

/** How the network was trained to see its input. */
export type ImageNormalisation = 'torchvision' | 'caffe';

/** torchvision (and the ONNX zoo's VGG, converted from it): RGB in 0..1, minus these means, over these stds. */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;
/** Caffe's VGG (Simonyan & Zisserman's release, which Gatys used): BGR in 0..255 minus these (in B, G, R order). */
export const CAFFE_MEAN_BGR = [103.939, 116.779, 123.68] as const;

export interface OnnxFeatureOptions {
  /**
   * 'avg' replaces every MaxPool by an average pool of the same window, as Gatys et al. did: gradients reach
   * every pixel of a window, not only its maximum, and the results look smoother. 'max' keeps the file's pools
   * (the net then computes exactly what the file does).
   */
  pooling: 'avg' | 'max';
  normalisation: ImageNormalisation;
}

export const DEFAULT_ONNX_FEATURES: Readonly<OnnxFeatureOptions> = { pooling: 'avg', normalisation: 'torchvision' };

/** Ops that end the chain without ending it badly: the classifier head, or anything after the features. */
const CHAIN_OPS = new Set(['Conv', 'Relu', 'MaxPool', 'AveragePool']);
const PASS_THROUGH = new Set(['Dropout', 'Identity']);

/** One step of the rebuilt chain. */
type Step =
  | { op: 'conv'; kernel: tf.Tensor4D; bias: tf.Tensor1D | null; strides: [number, number]; pad: 'valid' | 'same' | number | [[0, 0], [number, number], [number, number], [0, 0]]; dilations: [number, number] }
  | { op: 'relu' }
  | { op: 'pool'; kind: 'max' | 'avg'; size: [number, number]; strides: [number, number]; pad: 'valid' | 'same' | number; countIncludePad: boolean };

const HINT_EXPORT =
  'pass a VGG network as an ONNX model: e.g. the ONNX model zoo\'s vgg19-7.onnx, or torch.onnx.export(torchvision.models.vgg19(weights="DEFAULT").features, torch.zeros(1, 3, 224, 224), "vgg19.onnx")';

/**
 * A feature net from the VGG-like ONNX model in `file`.
 * @throws RhodopsError NOT_FOUND when the file cannot be read; ONNX_INVALID when it is not an ONNX model;
 *   ONNX_UNSUPPORTED_SIGNATURE when it has no Conv layers, or layers of unexpected shapes or kinds.
 */
export async function onnxFeatureNet(file: string, options?: Partial<OnnxFeatureOptions>): Promise<FeatureNet> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new RhodopsError('NOT_FOUND', `cannot read the feature network ${file}: ${messageOf(e)}`, { hint: 'check the path of the ONNX file', cause: e });
  }
  return onnxFeatureNetFromBytes(bytes, file, options);
}

const int = (v: number | { toNumber(): number } | null | undefined): number => (v == null ? 0 : typeof v === 'number' ? v : v.toNumber());

function attr(node: INodeProto, name: string): IAttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name) ?? undefined;
}
function ints(node: INodeProto, name: string): number[] | undefined {
  const a = attr(node, name);
  return a?.ints && a.ints.length > 0 ? a.ints.map(int) : undefined;
}
function intAttr(node: INodeProto, name: string): number | undefined {
  const a = attr(node, name);
  return a === undefined ? undefined : int(a.i);
}
function textAttr(node: INodeProto, name: string): string | undefined {
  const a = attr(node, name);
  return a?.s ? new TextDecoder().decode(a.s) : undefined;
}

/** An initializer's values as float32, or why not. */
function floatsOf(t: ITensorProto, where: string): { data: Float32Array; dims: number[] } {
  const dims = (t.dims ?? []).map(int);
  const count = dims.reduce((a, b) => a * b, 1);
  const name = t.name ?? '(unnamed)';
  if (t.dataLocation === onnxProto.onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new RhodopsError('ONNX_UNSUPPORTED_SIGNATURE', `${where}: weight '${name}' is stored in an external data file, which this reader does not follow.`, {
      hint: 'save the model with its weights inside the .onnx file (onnx.save_model(model, path, save_as_external_data=False)); VGG19 is 550 MB, under ONNX\'s 2 GB limit',
    });
  }
  if (t.dataType !== onnxProto.onnx.TensorProto.DataType.FLOAT) {
    throw new RhodopsError('ONNX_UNSUPPORTED_SIGNATURE', `${where}: weight '${name}' is of ONNX data type ${String(t.dataType)}, not float32.`, {
      hint: 'export the model in float32 (not float16 or quantized)',
    });
  }
  let data: Float32Array;
  if (t.rawData && t.rawData.length > 0) {
    // Copied: the raw bytes sit at an arbitrary offset of the file's buffer, often not 4-byte aligned (and
    // protobufjs gives Node Buffers, whose slice() is a view, not a copy).
    const raw = new Uint8Array(t.rawData);
    data = new Float32Array(raw.buffer, 0, raw.byteLength >> 2);
  } else data = Float32Array.from(t.floatData ?? []);
  if (data.length !== count) {
    throw new RhodopsError('ONNX_UNSUPPORTED_SIGNATURE', `${where}: weight '${name}' has ${data.length} values for shape [${dims.join(', ')}].`, {
      hint: 'the file is damaged or was written by an unusual exporter; export it again',
    });
  }
  return { data, dims };
}

/** ONNX pads [top, left, bottom, right] (or auto_pad) as what tfjs's conv2d takes. */
function convPad(node: INodeProto, k: [number, number], where: string): Extract<Step, { op: 'conv' }>['pad'] {
  const auto = textAttr(node, 'auto_pad') ?? 'NOTSET';
  if (auto === 'VALID') return 'valid';
  if (auto === 'SAME_UPPER' || auto === 'SAME_LOWER') {
    if (k[0] % 2 === 0 || k[1] % 2 === 0) {
      throw new RhodopsError('ONNX_UNSUPPORTED_SIGNATURE', `${where}: node '${node.name ?? ''}' uses ${auto} with an even kernel.`, { hint: HINT_EXPORT });
    }
    return 'same';
  }
  const p = ints(node, 'pads') ?? [0, 0, 0, 0];
  if (p.length !== 4) throw new RhodopsError('ONNX_UNSUPPORTED_SIGNATURE', `${where}: node '${node.name ?? ''}' has pads [${p.join(', ')}], not 4 values.`, { hint: HINT_EXPORT });
  const [t, l, b, r] = p as [number, number, number, number];
  if (t === l && l === b && b === r) return t;
  return [[0, 0], [t, b], [l, r], [0, 0]];
}

function poolPad(node: INodeProto, where: string): 'valid' | number {
  const auto = textAttr(node, 'auto_pad') ?? 'NOTSET';
  const p = ints(node, 'pads') ?? [0, 0, 0, 0];
  if (auto === 'NOTSET' || auto === 'VALID') {
    if (p.every((v) => v === 0)) return 'valid';
    if (p.length === 4 && p.every((v) => v === p[0])) return p[0]!;
  }
  throw new RhodopsError('ONNX_UNSUPPORTED_SIGNATURE', `${where}: pooling node '${node.name ?? ''}' has padding this reader does not support (auto_pad ${auto}, pads [${p.join(', ')}]).`, {
    hint: 'use a VGG whose pools are 2 × 2, stride 2, unpadded (torchvision and the ONNX zoo export them so)',
  });
}

function pair(v: number[] | undefined, fallback: number, name: string, node: INodeProto, where: string): [number, number] {
  if (v === undefined) return [fallback, fallback];
  if (v.length !== 2) throw new RhodopsError('ONNX_UNSUPPORTED_SIGNATURE', `${where}: node '${node.name ?? ''}' has ${name} [${v.join(', ')}]; a 2-D image net has 2.`, { hint: HINT_EXPORT });
  return [v[0]!, v[1]!];
}

/**
 * `onnxFeatureNet` on bytes already read; `where` names them in errors (the file's path).
 * Walks the graph's nodes in order from its image input: each Conv, Relu, MaxPool or AveragePool that takes the
 * chain's current tensor extends it (Dropout and Identity pass it on); the first other op that takes it ends the
 * features (VGG's classifier starts there). Layers are named as in the VGG papers: convB_I, reluB_I, poolB.
 */
export function onnxFeatureNetFromBytes(bytes: Uint8Array, where: string, options?: Partial<OnnxFeatureOptions>): FeatureNet {
  const o = mergeOptions('ONNX feature options', DEFAULT_ONNX_FEATURES, options);
  if (o.pooling !== 'avg' && o.pooling !== 'max') throw new RhodopsError('BAD_OPTION', `ONNX feature options: pooling must be 'avg' or 'max', got ${String(o.pooling)}.`, { hint: "pass 'avg' (Gatys) or 'max' (the file's own pools)" });
  if (o.normalisation !== 'torchvision' && o.normalisation !== 'caffe') {
    throw new RhodopsError('BAD_OPTION', `ONNX feature options: normalisation must be 'torchvision' or 'caffe', got ${String(o.normalisation)}.`, { hint: "pass 'torchvision' for torchvision and ONNX-zoo VGGs, 'caffe' for the original Caffe weights" });
  }
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnxProto.onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new RhodopsError('ONNX_INVALID', `${where} is not an ONNX model (it does not decode as one: ${messageOf(e)}).`, { hint: `${HINT_EXPORT}; a truncated download also fails so`, cause: e });
  }
  const graph = model.graph;
  if (!graph || !graph.node || graph.node.length === 0) {
    throw new RhodopsError('ONNX_INVALID', `${where} is not an ONNX model (it holds no graph of nodes).`, { hint: `${HINT_EXPORT}; a truncated download also fails so` });
  }
  const inits = new Map<string, ITensorProto>();
  for (const t of graph.initializer ?? []) if (t.name) inits.set(t.name, t);
  const input = (graph.input ?? []).find((i) => i.name && !inits.has(i.name));
  if (!input?.name) throw new RhodopsError('ONNX_UNSUPPORTED_SIGNATURE', `${where} has no image input (every graph input is a weight).`, { hint: HINT_EXPORT });
  const inDims = input.type?.tensorType?.shape?.dim ?? [];
  if (inDims.length > 0) {
    const c = inDims[1]?.dimValue;
    if (inDims.length !== 4 || (c != null && int(c) !== 3)) {
      const shown = inDims.map((d) => (d.dimParam ? d.dimParam : String(int(d.dimValue)))).join(', ');
      throw new RhodopsError('ONNX_UNSUPPORTED_SIGNATURE', `${where}: input '${input.name}' has shape [${shown}]; an image net takes [N, 3, H, W].`, { hint: HINT_EXPORT });
    }
  }

  const steps: Step[] = [];
  const layers: FeatureLayer[] = [];
  const owned: tf.Tensor[] = [];
  let current = input.name;
  let channels = 3;
  let stride = 1;
  let block = 1;
  let inBlock = 0;
  const nodeWhere = (n: INodeProto) => `${where}, node '${n.name || n.opType}'`;
  try {
    for (const node of graph.node) {
      const op = node.opType ?? '';
      if (!(node.input ?? []).includes(current)) continue;
      if (PASS_THROUGH.has(op)) {
        current = node.output?.[0] ?? current;
        continue;
      }
      if (op === 'BatchNormalization') {
        // Stopping here would leave a one-layer net that looks fine and transfers nothing.
        throw new RhodopsError('ONNX_UNSUPPORTED_SIGNATURE', `${nodeWhere(node)}: batch normalisation (a VGG*_bn model) is not supported.`, {
          hint: 'use plain VGG19 (torchvision.models.vgg19, or the ONNX zoo\'s vgg19-7.onnx), not vgg19_bn',
        });
      }
      if (!CHAIN_OPS.has(op) || (node.domain && node.domain !== 'ai.onnx')) break;
      const out = node.output?.[0];
      if (!out) break;
      if (op === 'Conv') {
        const wName = node.input?.[1] ?? '';
        const wInit = inits.get(wName);
        if (!wInit) {
          throw new RhodopsError('ONNX_UNSUPPORTED_SIGNATURE', `${nodeWhere(node)}: the Conv's weight '${wName}' is not an initializer (computed weights are not supported).`, { hint: HINT_EXPORT });
        }
        const w = floatsOf(wInit, nodeWhere(node));
        const [outCh, inCh, kh, kw] = w.dims as [number, number, number, number];
        const group = intAttr(node, 'group') ?? 1;
        if (w.dims.length !== 4 || inCh !== channels || group !== 1) {
          throw new RhodopsError('ONNX_UNSUPPORTED_SIGNATURE',
            `${nodeWhere(node)}: Conv weight '${wName}' has shape [${w.dims.join(', ')}] (group ${group}); after ${channels} channels a plain 2-D conv needs [out, ${channels}, kh, kw] and group 1.`,
            { hint: HINT_EXPORT });
        }
        const kShape = ints(node, 'kernel_shape');
        if (kShape && (kShape[0] !== kh || kShape[1] !== kw)) {
          throw new RhodopsError('ONNX_UNSUPPORTED_SIGNATURE', `${nodeWhere(node)}: kernel_shape [${kShape.join(', ')}] disagrees with the weight's [${kh}, ${kw}].`, { hint: HINT_EXPORT });
        }
        let bias: tf.Tensor1D | null = null;
        const bName = node.input?.[2];
        if (bName) {
          const bInit = inits.get(bName);
          const b = bInit ? floatsOf(bInit, nodeWhere(node)) : null;
          if (!b || b.data.length !== outCh) {
            throw new RhodopsError('ONNX_UNSUPPORTED_SIGNATURE', `${nodeWhere(node)}: Conv bias '${bName}' ${b ? `has ${b.data.length} values for ${outCh} filters` : 'is not an initializer'}.`, { hint: HINT_EXPORT });
          }
          bias = tf.tensor1d(b.data);
          owned.push(bias);
        }
        // ONNX's [out, in, kh, kw] is tfjs's [kh, kw, in, out].
        const hwio = transposeData(w.data, w.dims, [2, 3, 1, 0]);
        const kernel = tf.tensor4d(hwio.data, [kh, kw, inCh, outCh]);
        owned.push(kernel);
        const strides = pair(ints(node, 'strides'), 1, 'strides', node, where);
        const dilations = pair(ints(node, 'dilations'), 1, 'dilations', node, where);
        steps.push({ op: 'conv', kernel, bias, strides, dilations, pad: convPad(node, [kh, kw], nodeWhere(node)) });
        channels = outCh;
        stride *= strides[0];
        inBlock++;
        layers.push({ name: `conv${block}_${inBlock}`, channels, stride, source: out });
      } else if (op === 'Relu') {
        steps.push({ op: 'relu' });
        layers.push({ name: `relu${block}_${Math.max(1, inBlock)}`, channels, stride, source: out });
      } else {
        const size = pair(ints(node, 'kernel_shape'), 1, 'kernel_shape', node, where);
        const strides = pair(ints(node, 'strides'), 1, 'strides', node, where);
        if ((intAttr(node, 'ceil_mode') ?? 0) !== 0 || (ints(node, 'dilations') ?? [1, 1]).some((d) => d !== 1)) {
          throw new RhodopsError('ONNX_UNSUPPORTED_SIGNATURE', `${nodeWhere(node)}: pooling with ceil_mode or dilations is not supported.`, { hint: 'use a VGG whose pools are 2 × 2, stride 2 (torchvision and the ONNX zoo export them so)' });
        }
        const kind = op === 'MaxPool' ? o.pooling : 'avg';
        steps.push({ op: 'pool', kind, size, strides, pad: poolPad(node, nodeWhere(node)), countIncludePad: (intAttr(node, 'count_include_pad') ?? 0) !== 0 });
        stride *= strides[0];
        layers.push({ name: `pool${block}`, channels, stride, source: out });
        block++;
        inBlock = 0;
      }
      current = out;
    }
  } catch (e) {
    tf.dispose(owned);
    throw e;
  }
  if (!steps.some((s) => s.op === 'conv')) {
    tf.dispose(owned);
    throw new RhodopsError('ONNX_UNSUPPORTED_SIGNATURE', `${where} has no Conv layers after its input '${input.name}': it is not a convolutional image network like VGG.`, { hint: HINT_EXPORT });
  }
  // Padded average pools that count the padding would differ from ONNX's default; VGG's pools are unpadded.
  for (const s of steps) {
    if (s.op === 'pool' && s.pad !== 'valid' && s.pad !== 0 && !s.countIncludePad && s.kind === 'avg') {
      tf.dispose(owned);
      throw new RhodopsError('ONNX_UNSUPPORTED_SIGNATURE', `${where}: a padded pool (${s.pad} pixels) cannot be rebuilt exactly here.`, { hint: 'use a VGG whose pools are unpadded (torchvision and the ONNX zoo export them so)' });
    }
  }

  const relus = layers.filter((l) => l.name.startsWith('relu'));
  const firstOfBlock = relus.filter((l) => l.name.endsWith('_1'));
  const styleLayers = (firstOfBlock.length > 0 ? firstOfBlock : layers.filter((l) => l.name.startsWith('conv'))).map((l) => l.name);
  // Gatys et al.'s content layer; a smaller net uses its deepest ReLU (or conv).
  const contentLayer = relus.some((l) => l.name === 'relu4_2') ? 'relu4_2' : (relus.at(-1) ?? layers.filter((l) => l.name.startsWith('conv')).at(-1)!).name;
  const convs = steps.filter((s) => s.op === 'conv').length;
  const layerIndex = new Map(layers.map((l, i) => [l.name, i]));
  let disposed = false;
  const norm = o.normalisation;
  return {
    kind: 'onnx',
    description: `${where} (${convs} conv layers, ${o.pooling} pooling, ${norm} input)`,
    layers,
    styleLayers,
    contentLayer,
    activations(image, names) {
      if (disposed) throw new Error(`feature net ${where}: used after dispose()`);
      const wanted = names.map((n) => {
        const i = layerIndex.get(n);
        if (i === undefined) throw new RhodopsError('BAD_OPTION', `feature net ${where}: no layer '${n}'; it has ${layers.map((l) => l.name).join(', ')}.`, { hint: 'pick layers from that list' });
        return i;
      });
      const deepest = Math.max(...wanted);
      return tf.tidy(() => {
        let x = normaliseInput(image, norm);
        const outs: tf.Tensor4D[] = [];
        for (let i = 0; i <= deepest; i++) {
          const s = steps[i]!;
          if (s.op === 'conv') {
            x = tf.conv2d(x, s.kernel, s.strides, s.pad, 'NHWC', s.dilations);
            if (s.bias) x = tf.add(x, s.bias);
          } else if (s.op === 'relu') x = tf.relu(x);
          else x = s.kind === 'max' ? tf.maxPool(x, s.size, s.strides, s.pad) : tf.avgPool(x, s.size, s.strides, s.pad);
          outs.push(x);
        }
        return wanted.map((i) => outs[i]!);
      });
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      tf.dispose(owned);
    },
  };
}

/** RGB 0..255 NHWC as the network was trained to see it (still NHWC: the rebuilt convs are NHWC). */
export function normaliseInput(image: tf.Tensor4D, norm: ImageNormalisation): tf.Tensor4D {
  return tf.tidy(() => {
    if (norm === 'caffe') {
      const bgr = tf.reverse(image, 3);
      return tf.sub(bgr, tf.tensor1d([...CAFFE_MEAN_BGR]));
    }
    const mean = tf.tensor1d(IMAGENET_MEAN.map((m) => m * 255));
    const scale = tf.tensor1d(IMAGENET_STD.map((s) => 1 / (s * 255)));
    return tf.mul(tf.sub(image, mean), scale);
  });
}
