// The output page's look for offline renders (render/look.ts): the page shader's formulas on the CPU.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_DISPLAY } from '../protocol/display.ts';
import { Look } from '../render/look.ts';
import { colourMatrix } from '../protocol/look.ts';
import { rng } from '../core/random.ts';
import { cameraTone, cameraMatrix, decodeCamera, encodeCamera, FLASH_MAX, NO_CAMERA, quantizeCamera, ZOOM_MAX, ROTATE_MAX_DEG } from '../core/camera.ts';
import { decodeFrameMessage, encodeFrameMessage } from '../protocol/frames.ts';

const pixel = (r: number, g: number, b: number, n = 4) => Uint8Array.from({ length: n * 3 }, (_, i) => [r, g, b][i % 3]!);

describe('the look in renders', () => {
  it('the default look changes nothing', () => {
    const look = new Look(DEFAULT_DISPLAY, 30);
    assert.equal(look.colours(), false);
    assert.equal(look.sharpens, false);
  });

  it('saturation 0 makes grey with the Rec. 709 luma; contrast and brightness act about mid-grey', () => {
    const grey = new Look({ ...DEFAULT_DISPLAY, saturation: 0 }, 30);
    const f = pixel(200, 40, 10);
    grey.colour(f);
    const luma = Math.round(0.2126 * 200 + 0.7152 * 40 + 0.0722 * 10);
    assert.deepEqual([...f.subarray(0, 3)], [luma, luma, luma]);
    const flat = new Look({ ...DEFAULT_DISPLAY, contrast: 0, brightness: 0.25 }, 30);
    const g = pixel(0, 128, 255);
    flat.colour(g);
    assert.deepEqual([...g.subarray(0, 3)], [191, 191, 191], 'contrast 0: everything mid-grey, then +0.25');
  });

  it('trails: a bright frame fades by trails^(60/fps) a video frame, and a brighter new one wins', () => {
    const look = new Look({ ...DEFAULT_DISPLAY, trails: 0.9 }, 30);
    const keep = 0.9 ** 2;
    look.colour(pixel(255, 255, 255));
    const next = pixel(0, 0, 0);
    look.colour(next);
    assert.equal(next[0], Math.round((keep - 1 / 512) * 255));
    const brighter = pixel(250, 250, 250);
    look.colour(brighter);
    assert.equal(brighter[0], 250);
    assert.equal(look.remembers, true);
  });

  it('sharpening pushes an edge apart and leaves flat areas alone', () => {
    const look = new Look({ ...DEFAULT_DISPLAY, sharpen: 1 }, 30);
    // A 4×1 strip: dark, dark, light, light.
    const f = Uint8Array.from([50, 50, 50, 50, 50, 50, 200, 200, 200, 200, 200, 200]);
    look.sharpen(f, 4, 1);
    assert.ok(f[3]! < 50 && f[6]! > 200, `the edge: ${f[3]} | ${f[6]}`);
    assert.equal(f[0], 50, 'flat stays flat');
  });

  it('camera flash and punch follow the colour stage; a still camera changes nothing', () => {
    const look = new Look(DEFAULT_DISPLAY, 30);
    assert.equal(look.colours(NO_CAMERA), false);
    const f = pixel(0, 128, 191);
    look.colour(f, { ...NO_CAMERA, flash: 1 });
    assert.deepEqual([...f.subarray(0, 3)], [Math.round(FLASH_MAX * 255), Math.round((128 / 255 + (1 - 128 / 255) * FLASH_MAX) * 255), Math.round((191 / 255 + (1 - 191 / 255) * FLASH_MAX) * 255)]);
    const g = pixel(64, 128, 200);
    look.colour(g, { ...NO_CAMERA, contrast: 0.5 });
    // Contrast ×1.5 about mid-grey: 255·((v/255 - 0.5)·1.5 + 0.5) = 1.5·v - 63.75.
    assert.deepEqual([...g.subarray(0, 3)], [32, 128, 236]);
    const h = pixel(10, 128, 250);
    look.colour(h, { ...NO_CAMERA, contrast: 1 });
    assert.deepEqual([h[0], h[2]], [0, 255], 'a full punch clamps at black and white');
    const still = pixel(10, 20, 30);
    assert.equal(look.move(still, 2, 2, NO_CAMERA), still, 'no zoom, no turn: the same frame');
  });

  it('the colour stage with the camera equals the shader\'s formulas, applied directly, on random pixels', () => {
    const settings = { ...DEFAULT_DISPLAY, hue: 40, saturation: 1.4, contrast: 1.3, brightness: -0.1, gamma: 1.6 };
    const camera = { ...NO_CAMERA, flash: 0.4, contrast: 0.6 };
    const look = new Look(settings, 30);
    const m: number[] = [];
    colourMatrix(settings.hue, settings.saturation, m);
    const rand = rng(9);
    const f = Uint8Array.from({ length: 3000 }, () => Math.floor(rand() * 256));
    const want = Array.from(f, (_, i) => {
      const p = i - (i % 3);
      const c = i % 3;
      const mixed = m[c * 3]! * (f[p]! / 255) + m[c * 3 + 1]! * (f[p + 1]! / 255) + m[c * 3 + 2]! * (f[p + 2]! / 255);
      const toned = Math.pow(Math.min(1, Math.max(0, (mixed - 0.5) * settings.contrast + 0.5 + settings.brightness)), 1 / settings.gamma);
      return cameraTone(toned, camera) * 255;
    });
    look.colour(f, camera);
    const worst = Math.max(...want.map((w, i) => Math.abs(w - f[i]!)));
    assert.ok(worst <= 1, `worst difference ${worst.toFixed(2)} levels`);
  });

  it('camera zoom and turn resample the frame about its centre, as the page samples it', () => {
    // A linear ramp in x and y: bilinear sampling of it is exact, so each output pixel must hold the ramp's value
    // at the point the camera maps it to (away from the mirrored edges).
    const w = 48;
    const h = 32;
    const ramp = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) ramp.set([x * 5, y * 7, 100], (y * w + x) * 3);
    const look = new Look(DEFAULT_DISPLAY, 30);
    for (const cam of [{ ...NO_CAMERA, zoom: 1 }, { ...NO_CAMERA, rotate: 1 }, { ...NO_CAMERA, rotate: -0.5, zoom: 0.4 }]) {
      const out = look.move(ramp, w, h, cam);
      const m: number[] = [];
      cameraMatrix(cam, w / h, m);
      let checked = 0;
      for (let y = 8; y < h - 8; y++) {
        for (let x = 12; x < w - 12; x++) {
          const px = (x + 0.5) / w - 0.5;
          const py = (y + 0.5) / h - 0.5;
          const sx = (m[0]! * px + m[1]! * py + 0.5) * w - 0.5;
          const sy = (m[2]! * px + m[3]! * py + 0.5) * h - 0.5;
          const i = (y * w + x) * 3;
          assert.ok(Math.abs(out[i]! - sx * 5) <= 1 && Math.abs(out[i + 1]! - sy * 7) <= 1, `${JSON.stringify(cam)} at (${x}, ${y}): ${out[i]},${out[i + 1]} for ${(sx * 5).toFixed(1)},${(sy * 7).toFixed(1)}`);
          checked++;
        }
      }
      assert.ok(checked > 300);
    }
    // The directions: a full zoom shows the middle (1 + ZOOM_MAX)× larger; a positive turn is clockwise on screen.
    const m: number[] = [];
    cameraMatrix({ ...NO_CAMERA, zoom: 1 }, 1, m);
    assert.ok(Math.abs(m[0]! - 1 / (1 + ZOOM_MAX)) < 1e-12 && Math.abs(m[1]!) < 1e-12, `m = ${m.join(', ')}`);
    cameraMatrix({ ...NO_CAMERA, rotate: 1 }, 1, m);
    // The output's right-hand point samples the frame above the centre's right: the picture turned clockwise.
    const a = (ROTATE_MAX_DEG * Math.PI) / 180;
    assert.ok(Math.abs(m[2]! + Math.sin(a)) < 1e-12, `m = ${m.join(', ')}`);
  });

  it('frames carry their camera moves in the header, quantized as the renderer quantizes them', () => {
    const camera = { flash: 0.3, contrast: 1, zoom: 0.05, rotate: -0.71 };
    const msg = encodeFrameMessage({ seq: 7, captureTime: 1, width: 2, height: 1, format: 3, camera }, new Uint8Array(6));
    const back = decodeFrameMessage(msg)!;
    assert.deepEqual(back.header.camera, quantizeCamera(camera));
    for (const k of ['flash', 'contrast', 'zoom', 'rotate'] as const) assert.ok(Math.abs(back.header.camera[k] - camera[k]) <= 1 / 250, k);
    const b = new Uint8Array(4);
    encodeCamera({ flash: 2, contrast: -1, zoom: 0.5, rotate: -3 }, b, 0);
    assert.deepEqual(decodeCamera(b, 0), { flash: 1, contrast: 0, zoom: 128 / 255, rotate: -1 }, 'out-of-range moves are clamped');
    assert.deepEqual(decodeFrameMessage(encodeFrameMessage({ seq: 1, captureTime: 1, width: 1, height: 1, format: 3 }, new Uint8Array(3)))!.header.camera, NO_CAMERA);
  });
});
