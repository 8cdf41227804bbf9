/**
 * Conv2DBackpropFilter for tfjs-backend-wasm, which ships without it ("Kernel 'Conv2DBackpropFilter' not
 * registered for backend 'wasm'"), so no conv layer can train there.
 *
 * The filter gradient is itself a convolution:
 *
 *   dW[kh,kw,ci,co] = Σ_{n,oh,ow} x[n, oh·s + kh − padTop, ow·s + kw − padLeft, ci] · dy[n,oh,ow,co]
 *
 * Swap batch and channels so that x becomes X' = [ci, H, W, n] and use dy as a filter F' = [OH, OW, n, co]:
 * a stride-1 convolution of X' with F' at dilation s, over x padded like the forward pass, gives
 * out[ci,kh,kw,co] = Σ_{oh,ow,n} X'[ci, kh + oh·s, kw + ow·s, n] · F'[oh,ow,n,co], which is dW up to a final
 * crop to KH×KW and a transpose to [KH,KW,ci,co]. Everything runs on wasm's own XNNPACK kernels (Transpose,
 * Conv2D, Slice) called at kernel level, so no engine-tracked tensor is made in between.
 */
import { backend_util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { runWasmKernel, type Pad, type WasmBackendLike } from './kernels.ts';

interface BackpropFilterAttrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

function as4d(shape: number[], what: string): [number, number, number, number] {
  if (shape.length !== 4) throw new Error(`Conv2DBackpropFilter (wasm patch): ${what} must be rank 4, got shape [${shape}]`);
  return shape as [number, number, number, number];
}

const conv2DBackpropFilterWasm: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = backend as WasmBackendLike;
  const { x, dy } = inputs as { x?: TensorInfo; dy?: TensorInfo };
  if (x === undefined || dy === undefined) throw new Error('Conv2DBackpropFilter (wasm patch): needs inputs x and dy');
  const { strides, pad, dataFormat = 'NHWC', dimRoundingMode, filterShape } = (attrs ?? {}) as unknown as BackpropFilterAttrs;
  if (dataFormat !== 'NHWC') {
    throw new Error(`Conv2DBackpropFilter (wasm patch) supports dataFormat 'NHWC' only, got '${dataFormat}'`);
  }
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') {
    throw new Error(`Conv2DBackpropFilter (wasm patch) supports float32 only, got x ${x.dtype} and dy ${dy.dtype}`);
  }
  const [batch, inH, inW, inC] = as4d(x.shape, 'x');
  const [dyBatch, outH, outW, outC] = as4d(dy.shape, 'dy');
  const [kH, kW, fInC, fOutC] = as4d(filterShape, 'filterShape');

  // Tfjs only differentiates conv2d at dilation 1, so the forward pass had dilation 1.
  const info = backend_util.computeConv2DInfo(
    [batch, inH, inW, inC], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  if (dyBatch !== batch || fInC !== inC || fOutC !== outC || info.outHeight !== outH || info.outWidth !== outW) {
    throw new Error(
      `Conv2DBackpropFilter (wasm patch): shapes do not fit a forward conv: x [${x.shape}], dy [${dy.shape}], ` +
        `filter [${filterShape}], forward output would be [${info.outShape}]`);
  }

  // Rows (columns) of padded x that the forward pass touched: KH + (OH − 1)·s. Pad the bottom (right) only as
  // far as needed; anything past x is zero padding in the forward pass too.
  const { top, left } = info.padInfo;
  const bottom = Math.max(0, kH + (outH - 1) * info.strideHeight - top - inH);
  const right = Math.max(0, kW + (outW - 1) * info.strideWidth - left - inW);

  const owned: TensorInfo[] = [];
  const keep = (t: TensorInfo): TensorInfo => (owned.push(t), t);
  try {
    const xT = keep(runWasmKernel('Transpose', { x }, wasm, { perm: [3, 1, 2, 0] })); // [ci, H, W, n]
    const dyT = keep(runWasmKernel('Transpose', { x: dy }, wasm, { perm: [1, 2, 0, 3] })); // [OH, OW, n, co]
    const full = keep(runWasmKernel('Conv2D', { x: xT, filter: dyT }, wasm, {
      strides: [1, 1],
      dilations: [info.strideHeight, info.strideWidth],
      pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
      dataFormat: 'NHWC',
    })); // [ci, ≥KH, ≥KW, co]
    const cropped = full.shape[1] === kH && full.shape[2] === kW
      ? full
      : keep(runWasmKernel('Slice', { x: full }, wasm, { begin: [0, 0, 0, 0], size: [inC, kH, kW, outC] }));
    return runWasmKernel('Transpose', { x: cropped }, wasm, { perm: [1, 2, 0, 3] }); // [KH, KW, ci, co]
  } finally {
    for (const t of owned) wasm.disposeData(t.dataId);
  }
};

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilterWasm,
};
