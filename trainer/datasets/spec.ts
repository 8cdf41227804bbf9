/** Dataset spec strings ("mnist", "idx:PATH", "svhn:PATH", "folder:PATH") and load options, checked. */
import os from 'node:os';
import path from 'node:path';
import { RhodopsError } from '../../core/errors.ts';
import { checkRange } from '../../core/options.ts';
import type { LoadOptions } from './types.ts';

export type DatasetSpec = { kind: 'mnist' } | { kind: 'idx' | 'svhn' | 'folder'; path: string };

export const SPEC_FORMS = [
  'mnist (the 10,000 MNIST test digits shipped with rhodops)',
  'idx:PATH (MNIST / Fashion-MNIST *-images-idx3-ubyte[.gz], or a folder holding one)',
  'svhn:PATH (SVHN train_32x32.mat / test_32x32.mat)',
  'folder:PATH (a folder of images, searched recursively)',
] as const;

const formsHint = `use one of: ${SPEC_FORMS.join('; ')}`;

export function parseSpec(spec: string): DatasetSpec {
  const trimmed = spec.trim();
  if (trimmed.toLowerCase() === 'mnist') return { kind: 'mnist' };
  const colon = trimmed.indexOf(':');
  const kind = colon > 0 ? trimmed.slice(0, colon).toLowerCase() : '';
  if (kind === 'idx' || kind === 'svhn' || kind === 'folder') {
    const p = trimmed.slice(colon + 1);
    if (!p) throw new RhodopsError('BAD_OPTION', `Dataset spec '${spec}' has no path after '${kind}:'.`, { hint: formsHint });
    return { kind, path: resolvePath(p) };
  }
  throw new RhodopsError('BAD_OPTION', `Unknown dataset spec '${spec}'.`, {
    hint: colon < 0 && spec.includes(path.sep) ? `to train on a folder of images write folder:${spec}; or ${formsHint}` : formsHint,
  });
}

function resolvePath(p: string): string {
  if (p === '~' || p.startsWith('~/')) return path.join(os.homedir(), p.slice(1));
  return path.resolve(p);
}

export const MIN_SIZE = 4;
export const MAX_SIZE = 4096;

export function checkLoadOptions(opts: LoadOptions): void {
  const { size, channels } = opts;
  checkRange('Dataset size', size, { min: MIN_SIZE, max: MAX_SIZE, integer: true, unit: ' pixels' }, {
    hint: 'pick the resolution the model trains at, e.g. 28, 32, 64 or 256',
  });
  if (channels !== undefined && channels !== 1 && channels !== 3) {
    throw new RhodopsError('BAD_OPTION', `Dataset channels must be 1 or 3, got ${String(channels)}.`, { hint: 'use 1 for grayscale or 3 for RGB' });
  }
}
