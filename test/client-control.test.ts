// The control page for real: a server on port 0 (tiny InfoGAN: 6 noise, one categorical code of 3, one
// continuous), headless Chromium driving the page as a performer would, and the server's own state checked.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { sourcesByTarget } from '../client/src/control/mapping-labels.ts';
import { packPcm } from '../client/src/control/pcm.ts';
import { keyLabel, orderBanks, presetForKey } from '../client/src/control/preset-keys.ts';
import { Throttled } from '../client/src/control/throttle.ts';
import { DEFAULT_MAPPING_JSON } from '../core/mapping/defaults.ts';
import { DEFAULT_DISPLAY } from '../protocol/display.ts';
import { setLogLevel } from '../core/log.ts';
import { decodePcmMessage } from '../protocol/pcm.ts';
import type { Server } from '../server/server.ts';
import { launchChromium, openPage, screenshot } from './helpers/browser.ts';
import { sleep, startTestServer, tempRoot, TestClient, tinyModel } from './helpers/server.ts';

/** Polls `read` until `ok` holds; fails with `what` and the last value read. The deadline only ends a wait that will
 * never succeed: a loaded machine (training beside the tests) can take seconds to run a page. */
async function until<T>(what: string, read: () => T | Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const start = performance.now();
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (ok(last)) return last;
    if (performance.now() - start > timeoutMs) assert.fail(`${what}: not within ${timeoutMs} ms; last value ${JSON.stringify(last)}`);
    await sleep(40);
  }
}

/** A mono 16-bit WAV: a 110 Hz tone pulsed twice a second (loud attacks, for level, bass and onsets). */
function pulsedWav(seconds: number, rate = 44100): Buffer {
  const n = Math.round(seconds * rate);
  const data = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    const env = Math.exp(-((t % 0.5) / 0.12));
    data.writeInt16LE(Math.round(26000 * env * Math.sin(2 * Math.PI * 110 * t)), i * 2);
  }
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

/** Drags a range input's thumb to `fraction` (0 = left end, 1 = right end) with the mouse. */
async function dragSlider(page: Page, testid: string, fraction: number): Promise<void> {
  await page.getByTestId(testid).scrollIntoViewIfNeeded();
  const box = await page.getByTestId(testid).boundingBox();
  assert.ok(box, `the slider ${testid} is on the page and visible`);
  const value = Number(await page.getByTestId(testid).inputValue());
  const min = Number(await page.getByTestId(testid).getAttribute('min'));
  const max = Number(await page.getByTestId(testid).getAttribute('max'));
  // The thumb (26 px) travels between half a thumb from each end.
  const x = (f: number) => box.x + 13 + f * (box.width - 26);
  const y = box.y + box.height / 2;
  await page.mouse.move(x((value - min) / (max - min)), y);
  await page.mouse.down();
  for (let i = 1; i <= 8; i++) await page.mouse.move(x((value - min) / (max - min) + ((fraction - (value - min) / (max - min)) * i) / 8), y);
  await page.mouse.up();
}

const api = (server: Server, p: string, method = 'GET', body?: unknown) =>
  fetch(`${server.url}api/${p}`, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

describe('control page: pure parts', () => {
  it('packs microphone PCM exactly as the server decodes it', () => {
    const samples = Float32Array.from([0, 0.5, -0.25, 1, -1]);
    const msg = decodePcmMessage(Buffer.from(packPcm(samples, 48000)));
    assert.equal(msg.sampleRate, 48000, 'the rate in the header');
    assert.equal(msg.format, 'f32', 'format 1 = float32');
    assert.deepEqual(Array.from(new Float32Array(msg.samples.buffer, msg.samples.byteOffset, 5)), Array.from(samples), 'the samples, little-endian');
  });

  it("labels each control with what the built-in mapping routes to it", () => {
    const labels = sourcesByTarget(DEFAULT_MAPPING_JSON);
    assert.deepEqual(labels.get('direction 0'), ['audio onset', 'CC 1'], 'direction 0: the pulse of the hits and knob 1');
    assert.deepEqual(labels.get('drift speed'), ['audio harmonic', 'audio percussive'], 'the motion: harmonic and percussive energy');
    assert.deepEqual(labels.get('direction 7'), ['CC 8']);
    assert.deepEqual(labels.get('continuous 0'), ['CC 10']);
    assert.deepEqual(labels.get('category crossfade 0'), ['CC 9 sweep'], 'CC 9 sweeps the whole code');
    assert.equal(labels.get('truncation'), undefined, 'nothing routes to truncation');
    const disabled = { ...DEFAULT_MAPPING_JSON, routes: DEFAULT_MAPPING_JSON.routes.map((r) => ({ ...r, enabled: false })) };
    assert.equal(sourcesByTarget(disabled).size, 0, 'disabled routes are not shown');
  });

  it('preset keys: number row, Q row and A row for the first three banks, default bank first', () => {
    assert.deepEqual(presetForKey('Digit1'), { bank: 0, slot: 0 });
    assert.deepEqual(presetForKey('Digit0'), { bank: 0, slot: 9 });
    assert.deepEqual(presetForKey('KeyP'), { bank: 1, slot: 9 });
    assert.deepEqual(presetForKey('Semicolon'), { bank: 2, slot: 9 });
    assert.equal(presetForKey('KeyZ'), null);
    assert.equal(keyLabel(2, 9), ';');
    assert.equal(keyLabel(0, 10), null, 'the 11th preset of a bank has no key');
    assert.deepEqual(orderBanks(['a', 'default', 'b']), ['default', 'a', 'b']);
  });

  it('throttles a fast drag to at most one send per interval, and always sends the last value', async () => {
    const sent: number[] = [];
    const t = new Throttled<number>((v) => sent.push(v), 50);
    for (let i = 0; i < 20; i++) t.push(i);
    assert.deepEqual(sent, [0], 'the first value goes at once, the rest wait');
    await sleep(80);
    assert.deepEqual(sent, [0, 19], 'then only the newest');
  });
});

describe('control page in Chromium', () => {
  let root: string;
  let server: Server;
  let browser: Browser;
  const opened: { page: Page; errors: string[]; context?: BrowserContext }[] = [];
  const clients: TestClient[] = [];

  before(async () => {
    setLogLevel('silent');
    root = await tempRoot('rhodops-control-');
    server = await startTestServer(root);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await fs.rm(root, { recursive: true, force: true });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const o of opened.splice(0)) {
      const errors = [...o.errors];
      await (o.context ?? o.page).close();
      assert.deepEqual(errors, [], 'the page logged no errors and threw nothing');
    }
    // Each test starts from the same server: built-in mapping, no audio, no learn armed.
    server.instrument.cancelLearn();
    server.instrument.setMapping(DEFAULT_MAPPING_JSON);
    await server.inputs.setAudio({ kind: 'none' });
    server.setDisplay(DEFAULT_DISPLAY);
  });

  /** The control page, once its latent controls are built from the welcome. */
  async function control(o: { viewport?: { width: number; height: number }; context?: BrowserContext } = {}): Promise<Page> {
    const { page, errors } = await openPage(o.context ?? browser, server.url, o.viewport ?? { width: 1280, height: 800 });
    opened.push({ page, errors, ...(o.context ? { context: o.context } : {}) });
    await page.getByTestId('slider-direction-0').waitFor({ timeout: 10_000 });
    await until('the page connects', () => page.getByTestId('connection').textContent(), (t) => t === 'live');
    return page;
  }

  async function client(): Promise<TestClient> {
    const c = await TestClient.connect(server);
    clients.push(c);
    return c;
  }

  it('moving sliders on the page changes the server state and the frames', async () => {
    const page = await control();
    const c = await client();
    // No smoothing and no drift: the tiny model's frames are static until something changes.
    c.send({ type: 'smoothing', timeConstant: 0 });
    c.send({ type: 'direction', index: 0, value: 0 });
    await sleep(200);
    await c.waitFrames(3);
    const before = c.frames.at(-1)!.payload;
    assert.deepEqual(c.frames.at(-2)!.payload, before, 'frames are static while nothing moves');
    const sendsBefore = server.hub.stats().reduce((n, s) => n + s.messagesIn, 0);

    await dragSlider(page, 'slider-direction-0', 1);
    const d0 = await until('direction 0 on the server after dragging its slider right', () => server.instrument.snapshot().controls.directions[0]!, (v) => v > 2.9);
    assert.ok(d0 <= 3, `the slider's range ends at 3 (got ${d0})`);
    assert.equal(await page.getByTestId('value-direction-0').textContent(), '+3.00', 'the readout shows the value');

    await dragSlider(page, 'slider-continuous-0', 0);
    await until('continuous code 0 on the server after dragging its slider left', () => server.instrument.snapshot().state.continuous[0]!, (v) => v < -1.9);
    const sends = server.hub.stats().reduce((n, s) => n + s.messagesIn, 0) - sendsBefore;
    assert.ok(sends >= 2 && sends < 60, `two drags of 8 moves each sent a few messages, throttled (got ${sends})`);

    await c.waitFrames(4);
    assert.notDeepEqual(c.frames.at(-1)!.payload, before, 'the frames after the moves differ from before');
    assert.ok(Number(await page.getByTestId('preview').getAttribute('data-frames')) > 0, 'the preview draws frames');
  });

  it('presets: save, recall by tapping its tile, rename, recall by key, delete', async () => {
    const page = await control();
    await page.getByTestId('preset-name').fill('dawn');
    await page.getByTestId('preset-save').click();
    const list = await until('the preset saved from the page is in the store', () => server.presets.list(), (l) => l.presets.some((p) => p.name === 'dawn'));
    assert.equal(list.presets.find((p) => p.name === 'dawn')?.bank, 'default', 'saved in the default bank');
    const saved = (await server.presets.load('default', 'dawn')).state;
    const tile = page.locator('[data-testid=preset-tile][data-name="dawn"]');
    await tile.waitFor();
    assert.equal(await tile.getByTestId('preset-key').textContent(), '1', "the first tile shows its key, '1'");

    // Change the state from the page: new noise and another category.
    await page.getByTestId('randomize').click();
    const other = saved.categorical[0]!.indexOf(Math.max(...saved.categorical[0]!)) === 2 ? 0 : 2;
    await page.getByTestId(`category-0-${other}`).click();
    await until('the state changed', () => server.instrument.snapshot().state, (s) => JSON.stringify(s) !== JSON.stringify(saved));

    // Crossfade 0 (Home on the focused slider), then tap the tile.
    await page.getByTestId('slider-preset-crossfade').focus();
    await page.keyboard.press('Home');
    assert.equal(await page.getByTestId('value-preset-crossfade').textContent(), '0.0 s');
    await tile.getByTestId('preset-recall').click();
    await until('the recalled state equals the saved one', () => server.instrument.snapshot().state, (s) => JSON.stringify(s) === JSON.stringify(saved));
    assert.ok(await tile.evaluate((el) => el.classList.contains('active')), 'the recalled tile is marked');

    // Rename in edit mode.
    await page.getByTestId('presets-edit').click();
    await tile.getByTestId('preset-rename').click();
    await page.getByTestId('dialog-input').fill('dusk');
    await page.getByTestId('dialog-ok').click();
    await until('the preset is renamed in the store', () => server.presets.list(), (l) => l.presets.map((p) => p.name).join() === 'dusk');
    const renamed = page.locator('[data-testid=preset-tile][data-name="dusk"]');
    await renamed.waitFor();

    // Key 1 recalls the first preset of the first bank (focus off any text box first).
    await page.getByTestId('randomize').click();
    await until('new noise', () => server.instrument.snapshot().state, (s) => JSON.stringify(s) !== JSON.stringify(saved));
    await page.getByTestId('preset-name').focus();
    await page.keyboard.press('1');
    await sleep(300);
    assert.notEqual(JSON.stringify(server.instrument.snapshot().state), JSON.stringify(saved), 'a key typed into the name box is text, not a shortcut');
    await page.getByTestId('preset-name').fill('');
    await page.locator('body').click({ position: { x: 5, y: 200 } });
    await page.keyboard.press('1');
    await until('key 1 recalled the preset', () => server.instrument.snapshot().state, (s) => JSON.stringify(s) === JSON.stringify(saved));

    // Delete asks first; cancel keeps it, confirm deletes it.
    await renamed.getByTestId('preset-delete').click();
    await page.getByTestId('dialog-cancel').click();
    await sleep(200);
    assert.equal((await server.presets.list()).presets.length, 1, 'cancel keeps the preset');
    await renamed.getByTestId('preset-delete').click();
    await page.getByTestId('dialog-confirm').click();
    await until('the preset is deleted from the store', () => server.presets.list(), (l) => l.presets.length === 0);
    await until('its tile is gone', () => page.locator('[data-testid=preset-tile]').count(), (n) => n === 0);
  });

  it('MIDI moves the page: CC 1 through the built-in mapping moves the direction 0 slider', async () => {
    const page = await control();
    assert.match((await page.getByTestId('sources-direction-0').textContent()) ?? '', /CC 1/, "direction 0's label shows its knob");
    const c = await client();
    c.send({ type: 'direction', index: 0, value: 0 });
    await until('direction 0 at 0 on the page', () => page.getByTestId('slider-direction-0').inputValue(), (v) => Number(v) === 0);
    c.send({ type: 'midi', bytes: [0xb0, 1, 127] });
    const shown = await until('the page slider follows CC 1 at 127 (→ +2)', () => page.getByTestId('slider-direction-0').inputValue(), (v) => Number(v) > 1.95);
    const server0 = server.instrument.snapshot().controls.directions[0]!;
    assert.ok(Math.abs(Number(shown) - server0) < 0.06, `the slider shows the server's value (${shown} vs ${server0})`);
  });

  it("this browser's Web MIDI devices are forwarded to the server", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    // A fake Web MIDI with one input, since headless Chromium has no MIDI devices. Given as text: tsx would
    // wrap a function's inner functions in a helper that does not exist in the page.
    await context.addInitScript({
      content: `{
        const input = Object.assign(new EventTarget(), { id: 'fake-1', name: 'Fake Knobs', manufacturer: 'test', state: 'connected', type: 'input' });
        const access = Object.assign(new EventTarget(), { inputs: new Map([['fake-1', input]]), outputs: new Map(), sysexEnabled: false });
        Object.defineProperty(navigator, 'requestMIDIAccess', { value: async () => access });
        window.fakeMidi = (bytes) => {
          const e = new Event('midimessage');
          Object.defineProperty(e, 'data', { value: new Uint8Array(bytes) });
          input.dispatchEvent(e);
        };
      }`,
    });
    const page = await control({ context });
    await page.getByTestId('midi-enable').click();
    await until('the device is listed', () => page.getByTestId('midi-device').textContent(), (t) => (t ?? '').includes('Fake Knobs'));
    const c = await client();
    c.send({ type: 'direction', index: 1, value: 0 });
    await sleep(100);
    // CC 2 → direction 1 in the built-in mapping; a burst, batched into few messages.
    await page.evaluate('for (let v = 0; v <= 127; v += 4) window.fakeMidi([0xb0, 2, v]); window.fakeMidi([0xb0, 2, 0]);');
    await until('direction 1 on the server follows the browser knob to −2', () => server.instrument.snapshot().controls.directions[1]!, (v) => v < -1.95);
    const errors = c.messages.filter((m) => m['type'] === 'error');
    assert.deepEqual(errors, [], 'no rate-limit errors: the burst was batched');
  });

  it('MIDI learn from the page: arm, move a knob, the control shows its new source and the route exists', async () => {
    const page = await control();
    const c = await client();
    await page.getByTestId('learn-direction-3').click();
    assert.equal(await page.getByTestId('learn-direction-3').getAttribute('aria-pressed'), 'true', 'the armed button shows it');
    assert.ok(await page.getByTestId('learn-banner').isVisible(), 'the banner says what is being learned');
    await until('the server is armed for direction 3', () => server.status().inputs.learning, (l) => JSON.stringify(l) === JSON.stringify({ kind: 'direction', index: 3 }));
    c.send({ type: 'midi', bytes: [0xb0, 21, 10, 21, 90] });
    await until("direction 3's label shows CC 21", () => page.getByTestId('sources-direction-3').textContent(), (t) => (t ?? '').includes('CC 21'));
    const route = server.instrument.mapping.routes.find((r) => r.target.kind === 'direction' && r.target.index === 3);
    assert.deepEqual([route?.source.kind, (route?.source as { controller?: number } | undefined)?.controller], ['midi cc', 21], 'the server mapping routes CC 21 to direction 3');
    await until('the learn button disarms', () => page.getByTestId('learn-direction-3').getAttribute('aria-pressed'), (v) => v === 'false');
    assert.ok(await page.getByTestId('learn-banner').isHidden(), 'the banner is gone');

    // Esc cancels an armed learn, on the server too.
    await page.getByTestId('learn-truncation').click();
    await until('armed for truncation', () => server.status().inputs.learning, (l) => l?.kind === 'truncation');
    await page.keyboard.press('Escape');
    await until('Esc cancelled learn on the server', () => server.status().inputs.learning, (l) => l === null);
    assert.equal(await page.getByTestId('learn-truncation').getAttribute('aria-pressed'), 'false');

    // A pad learned for the camera's flash: the route rises at once and falls over 0.15 s.
    await page.getByTestId('learn-camera-flash').click();
    await until('armed for the flash', () => server.status().inputs.learning, (l) => JSON.stringify(l) === JSON.stringify({ kind: 'camera', move: 'flash' }));
    c.send({ type: 'midi', bytes: [0x90, 40, 100] });
    await until("the flash's label shows the pad", () => page.getByTestId('sources-camera-flash').textContent(), (t) => (t ?? '').includes('note E2'));
    const pad = server.instrument.mapping.routes.find((r) => r.target.kind === 'camera' && r.target.move === 'flash');
    assert.deepEqual([pad?.source.kind, pad?.transform.attack, pad?.transform.release], ['midi note', 0.01, 0.15]);
    c.send({ type: 'midi', bytes: [0x80, 40, 0] });
  });

  it('audio: picking a WAV file on the server plays it, and the meters move', async () => {
    await fs.writeFile(path.join(root, 'pulse.wav'), pulsedWav(4));
    const page = await control();
    await page.getByTestId('audio-reload').click();
    await until('the file is listed', () => page.locator('[data-testid=audio-source] option').allTextContents(), (o) => o.includes('pulse.wav'));
    await page.getByTestId('audio-source').selectOption('file:pulse.wav');
    await until('the server plays the file', () => server.status().inputs.audio, (a) => a?.spec === 'file' && a.running);
    const level = await until('the level meter moves', () => page.getByTestId('meter-level').getAttribute('data-value'), (v) => Number(v) > 0);
    assert.ok(Number(level) <= 1, `levels are 0..1 (got ${level})`);
    await until('the bass meter moves too', () => page.getByTestId('meter-bass').getAttribute('data-value'), (v) => Number(v) > 0);
    assert.match((await page.getByTestId('audio-status').textContent()) ?? '', /playing/, 'the status says it plays');
    await page.getByTestId('audio-source').selectOption('none');
    await until('no audio on the server', () => server.status().inputs.audio, (a) => a === null);
  });

  it("microphone: this browser's (fake) microphone becomes the server's audio source, and the meters move", async () => {
    const page = await control();
    await page.getByTestId('mic-toggle').click();
    await until('the microphone runs', () => page.getByTestId('mic-toggle').getAttribute('data-state'), (s) => s === 'on', 10_000);
    await until("the server's source is the browser", () => server.status().inputs.audio?.spec, (s) => s === 'browser');
    await until('the server hears it', () => server.status().inputs.audio?.frames ?? 0, (n) => n > 0, 8000);
    await until('the level meter moves', () => page.getByTestId('meter-level').getAttribute('data-value'), (v) => Number(v) > 0, 8000);
    await page.getByTestId('mic-toggle').click();
    await until('stopping releases the source', () => server.status().inputs.audio, (a) => a === null);
    assert.equal(await page.getByTestId('mic-toggle').getAttribute('data-state'), 'off');
  });

  it('recording: start and stop from the page; the take is listed with a link that serves an MP4', async () => {
    const page = await control();
    await page.getByTestId('rec-toggle').click();
    await until('recording on the server', () => server.status().recording?.state, (s) => s === 'recording');
    await until('the page shows it recording', () => page.getByTestId('rec-toggle').textContent(), (t) => (t ?? '').includes('stop'));
    await until('frames written show', () => page.getByTestId('rec-written').textContent(), (t) => Number(t) > 0, 4000);
    await until('the elapsed time runs', () => page.getByTestId('rec-elapsed').textContent(), (t) => t !== '0:00', 4000);
    assert.ok(await page.getByTestId('header-rec').isVisible(), 'the header shows REC');
    await page.getByTestId('rec-toggle').click();
    const link = page.locator('[data-testid=take-link][href$=".mp4"]').first();
    await link.waitFor({ timeout: 15_000 });
    const href = await link.getAttribute('href');
    assert.match(href ?? '', /^\/recordings\/[\w.-]+\.mp4$/, 'a download link into /recordings');
    const res = await fetch(new URL(href!, server.url));
    assert.equal(res.status, 200, `GET ${href}`);
    const body = Buffer.from(await res.arrayBuffer());
    assert.equal(body.subarray(4, 8).toString('latin1'), 'ftyp', 'the download is an MP4 (ftyp box first)');
    assert.equal(await page.getByTestId('rec-dropped').textContent(), '0', 'no frames dropped');
  });

  it('output display settings: the page sends changes and follows changes made elsewhere', async () => {
    const page = await control();
    const c = await client();
    const display = () => c.messages.filter((m) => m['type'] === 'display').at(-1)?.['settings'] as Record<string, unknown> | undefined;
    // The keyboard, not a drag: this slider sits below the fold, and on a loaded machine the page can still be
    // laying out when a drag's coordinates are taken (the drag then missed the thumb and nothing was sent).
    const sharpen = page.getByTestId('slider-display-sharpen');
    await sharpen.focus();
    await page.keyboard.press('End');
    assert.equal(await sharpen.inputValue(), '3', 'End takes the slider to its maximum');
    await sharpen.blur();
    await until('the sharpen slider reaches the server (and every page)', display, (d) => d?.['sharpen'] === 3);
    await page.getByTestId('display-upscale').selectOption('nearest');
    await until('upscale reaches the server', display, (d) => d?.['upscale'] === 'nearest');
    c.send({ type: 'display', settings: { fit: 'fill', blend: false } });
    await until("another page's fit shows", () => page.getByTestId('display-fit').inputValue(), (v) => v === 'fill');
    assert.equal(await page.getByTestId('display-blend').getAttribute('aria-pressed'), 'false', "another page's blend off shows");
    await page.getByTestId('display-blend').click();
    await until('tapping blend turns it back on', display, (d) => d?.['blend'] === true);
  });

  it('model switcher: picking another model switches the server, and the page follows', async () => {
    const other = await tinyModel(path.join(root, 'models'), 'tiny-b', 2);
    const page = await control();
    await until('both models are listed', () => page.locator('[data-testid=model-select] option').allTextContents(), (o) => o.some((t) => t.startsWith('tiny-b')));
    try {
      await page.getByTestId('model-select').selectOption(other);
      await until('the server plays the other model', () => server.engine.model.info.name, (n) => n === 'tiny-b', 15_000);
      await until('the page names it', () => page.getByTestId('header-model').textContent(), (t) => t === 'tiny-b');
      await until('the switcher settles on it', () => page.getByTestId('model-info').textContent(), (t) => (t ?? '').startsWith('tiny-b'));
      assert.ok(await page.getByTestId('slider-direction-0').isVisible(), 'the latent controls are there for the new model');
    } finally {
      await server.engine.switchTo(path.join(root, 'models', 'tiny')).catch(() => undefined);
    }
  });

  it('screenshots: laptop and tablet (tapping a category on the tablet)', async () => {
    await api(server, 'presets', 'POST', { name: 'ember' });
    await api(server, 'presets', 'POST', { name: 'glass' });
    await api(server, 'presets', 'POST', { name: 'tide', bank: 'club' });
    await fs.writeFile(path.join(root, 'pulse.wav'), pulsedWav(4));
    await api(server, 'audio', 'POST', { source: { kind: 'file', file: 'pulse.wav' } });
    const page = await control();
    await until('the presets show', () => page.locator('[data-testid=preset-tile]').count(), (n) => n === 3);
    await until('the meters move', () => page.getByTestId('meter-level').getAttribute('data-value'), (v) => Number(v) > 0);
    await until('stats arrive', () => page.getByTestId('stat-fps').textContent(), (t) => t !== '–');
    await sleep(300);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no sideways scrolling on a laptop (${overflow} px too wide)`);
    await screenshot(page, 'control');

    const context = await browser.newContext({ viewport: { width: 820, height: 1180 }, hasTouch: true, isMobile: true });
    const tablet = await control({ context });
    await tablet.getByTestId('category-0-1').tap();
    await until('the tapped category plays', () => server.instrument.snapshot().state.categorical[0]!, (w) => w[1] === 1);
    await until('the tapped value is lit', () => tablet.getByTestId('category-0-1').evaluate((el) => el.classList.contains('on')), (on) => on);
    // Checkboxes are drawn at 22 px inside a 40 px tall label that toggles them too; everything else is 40 px.
    const small = await tablet.evaluate(() =>
      Array.from(document.querySelectorAll<HTMLElement>('button, select, input:not([type=checkbox]), a.button'))
        .filter((el) => el.offsetParent !== null)
        .map((el) => ({ el: el.dataset['testid'] ?? el.textContent ?? el.tagName, h: Math.round(el.getBoundingClientRect().height), w: Math.round(el.getBoundingClientRect().width) }))
        .filter((r) => r.h < 40 || r.w < 40),
    );
    assert.deepEqual(small, [], 'every hit target on the tablet is at least 40 px each way');
    const tabletOverflow = await tablet.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(tabletOverflow <= 0, `no sideways scrolling on the tablet (${tabletOverflow} px too wide)`);
    await screenshot(tablet, 'control-tablet');
    for (const name of ['ember', 'glass']) await server.presets.remove('default', name);
    await server.presets.remove('club', 'tide');
  });
});

describe('control page across a server restart', () => {
  it('shows that it is reconnecting, then plays the restarted server with its controls rebuilt', async () => {
    setLogLevel('silent');
    const root = await tempRoot('rhodops-control-restart-');
    let server = await startTestServer(root);
    const port = Number(new URL(server.url).port);
    const browser = await launchChromium();
    try {
      const { page, errors } = await openPage(browser, server.url, { width: 1280, height: 800 });
      await until('live', () => page.getByTestId('connection').textContent(), (t) => t === 'live');
      await page.getByTestId('slider-direction-0').waitFor();
      await server.close();
      await until('the page says it is reconnecting', () => page.getByTestId('connection').textContent(), (t) => t === 'reconnecting…');
      // The same port, another model: the page must take the new welcome, not keep the old model's state.
      server = await startTestServer(root, { port, model: await tinyModel(path.join(root, 'models'), 'after-restart', 3) });
      await until('live again', () => page.getByTestId('connection').textContent(), (t) => t === 'live', 10_000);
      await until('the new model is named', () => page.getByTestId('header-model').textContent(), (t) => t === 'after-restart');
      const c = await TestClient.connect(server);
      c.send({ type: 'direction', index: 2, value: 1.5 });
      await until('the rebuilt controls follow the new server', () => page.getByTestId('slider-direction-2').inputValue(), (v) => Number(v) === 1.5);
      c.close();
      // Chromium logs the refused reconnections, and requests cut off by the shutdown, as console errors;
      // anything else is a page error.
      assert.deepEqual(errors.filter((e) => !/WebSocket connection to .* failed|Failed to load resource: net::ERR_/.test(e)), [], 'no page errors across the restart');
    } finally {
      await browser.close();
      await server.close();
      await fs.rm(root, { recursive: true, force: true });
    }
  });
});
