import assert from 'node:assert/strict';
import { isRhodopsError, type ErrorCode } from '../../core/errors.ts';
import type { ManifestInput } from '../../core/checkpoint/manifest.ts';

/** The promise rejects with a RhodopsError of `code` whose message mentions each string, and has a hint. */
export async function rejectsWith(p: Promise<unknown>, code: ErrorCode, ...mentions: string[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isRhodopsError(e, code), `expected ${code}, got ${String(e)}`);
    for (const m of mentions) assert.ok(e.message.includes(m), `message "${e.message}" does not mention "${m}"`);
    assert.ok(e.hint && e.hint.length > 10, `the error says what to do: ${e.message}`);
    return true;
  });
}

/** fn throws a RhodopsError of `code` whose message mentions each string, and has a hint. */
export function throwsWith(fn: () => unknown, code: ErrorCode, ...mentions: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isRhodopsError(e, code), `expected ${code}, got ${String(e)}`);
    for (const m of mentions) assert.ok(e.message.includes(m), `message "${e.message}" does not mention "${m}"`);
    assert.ok(e.hint && e.hint.length > 10, `the error says what to do: ${e.message}`);
    return true;
  });
}

/** A bring-your-own manifest for a 2×2 RGB model with a `size`-long latent. */
export function byoManifest(name: string, size: number, output: ManifestInput['output'] = { layout: 'NHWC', range: '0..1' }) {
  return {
    kind: 'onnx' as const,
    name,
    resolution: 2,
    channels: 3 as const,
    output,
    latent: { size, noise: size },
    onnx: { file: 'model.onnx', input: 'z', output: 'rgb' },
  };
}
