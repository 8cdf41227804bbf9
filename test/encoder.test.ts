// The live stream's frames, as the pages receive them: small frames exactly, larger ones as JPEG that keeps
// colour at full resolution (the pages enlarge a 128² frame 8× or more, where halved colour shows).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { encodeFrame } from '../server/encoder.ts';
import { FRAME_FORMAT_JPEG, FRAME_FORMAT_RGB } from '../protocol/frames.ts';

/** Mid-grey with a one-pixel vertical line of `line` at column `x`. */
function greyWithLine(size: number, x: number, line: [number, number, number]) {
  const data = new Uint8Array(size * size * 3).fill(128);
  for (let y = 0; y < size; y++) data.set(line, (y * size + x) * 3);
  return { batch: 1, width: size, height: size, data };
}

describe('stream frame encoding', () => {
  it('frames up to 64² go raw, byte for byte', async () => {
    const frame = greyWithLine(64, 9, [255, 0, 0]);
    const enc = await encodeFrame(frame, 85);
    assert.equal(enc.format, FRAME_FORMAT_RGB);
    assert.deepEqual(new Uint8Array(enc.data), frame.data);
  });

  it('a 128² frame goes as JPEG and a one-pixel coloured line keeps its colour', async () => {
    const size = 128;
    for (const [x, line] of [[41, [255, 0, 0]], [64, [0, 200, 255]], [97, [255, 0, 255]]] as const) {
      const frame = greyWithLine(size, x, [...line]);
      const enc = await encodeFrame(frame, 85);
      assert.equal(enc.format, FRAME_FORMAT_JPEG);
      const back = await sharp(enc.data).raw().toBuffer();
      const y = size / 2;
      const at = (col: number) => [...back.subarray((y * size + col) * 3, (y * size + col) * 3 + 3)];
      // Chroma at half resolution spreads a line's colour over two columns at half strength.
      const c = at(x);
      const chroma = (p: number[]) => Math.max(...p) - Math.min(...p);
      assert.ok(chroma(c) > 0.75 * chroma([...line]), `line ${line.join(',')} at column ${x} came back ${c.join(',')}`);
      for (const n of [x - 1, x + 1]) assert.ok(chroma(at(n)) < 0.35 * chroma([...line]), `column ${n} beside the line came back ${at(n).join(',')}`);
    }
  });
});
