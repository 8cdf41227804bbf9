/**
 * The audio source: none, a file on the server (GET /api/audio/files, played along, looping or not), a
 * capture device on the server (GET /api/audio/devices) or this browser's microphone; applied with
 * POST /api/audio. With the meters and what the server says of the source (`status.inputs.audio`).
 */
import type { AudioDeviceList } from '../lib/protocol.ts';
import { ApiError, api } from '../lib/connection.ts';
import type { InputsStatus } from '../lib/protocol.ts';
import { fill, h, panel } from './dom.ts';
import { clock } from './format.ts';
import { Meters } from './meters.ts';
import type { Microphone } from './microphone.ts';
import type { Page } from './page.ts';

type AudioStatus = InputsStatus['audio'];
/** A user's choice wins over the server's status for this long (the status may predate it). */
const LOCAL_WINS_MS = 2500;

export class AudioPanel {
  readonly el: HTMLElement;
  private readonly select = h('select', { testid: 'audio-source', attrs: { 'aria-label': 'audio source' } });
  private readonly loop = h('input', { testid: 'audio-loop', attrs: { type: 'checkbox', checked: true } });
  private readonly micButton = h('button', { testid: 'mic-toggle', on: { click: () => this.toggleMic() } });
  private readonly status = h('div', { class: 'small', testid: 'audio-status', text: 'no audio source' });
  private readonly notes = h('div', { class: 'muted small', testid: 'audio-notes' });
  private readonly meters = new Meters();
  private localAt = -Infinity;
  private files: string[] = [];

  constructor(
    private readonly page: Page,
    private readonly mic: Microphone,
  ) {
    this.select.addEventListener('change', () => void this.apply(this.select.value));
    this.loop.addEventListener('change', () => {
      if (this.select.value.startsWith('file:')) void this.apply(this.select.value);
    });
    const reload = h('button', { class: 'small', text: '↻', title: 'list files and devices again', testid: 'audio-reload', attrs: { 'aria-label': 'list files and devices again' }, on: { click: () => this.refresh() } });
    this.el = panel(
      'Audio',
      'panel-audio',
      h('div', { class: 'row' }, this.select, reload),
      h('div', { class: 'row' }, h('label', { class: 'check' }, this.loop, 'loop files'), this.micButton),
      this.status,
      this.meters.el,
      this.notes,
    );
    mic.onChange = () => this.paintMic();
    this.paintMic();
    this.fillOptions([], null);
    page.bus.on('welcome', () => void this.refresh());
    page.bus.on('meters', (m) => {
      this.meters.show(m.features);
      this.showStatus(m.audio);
    });
    page.bus.on('status', (m) => this.follow(m.status.inputs.audio));
  }

  async refresh(): Promise<void> {
    const [files, devices] = await Promise.all([
      this.page.call<{ files: string[] }>('/audio/files', {}, 'audio files'),
      // No capture devices is normal on many machines: said in the panel, not as an error toast.
      api<AudioDeviceList>('/audio/devices').then(
        (d) => ({ devices: d.devices, note: d.devices.length ? '' : `no capture devices on the server: ${d.notes.join('; ') || 'none reported'}` }),
        (e: unknown) => ({ devices: [], note: e instanceof ApiError ? `capture devices: ${e.message}${e.hint ? ` (${e.hint})` : ''}` : `capture devices: ${String(e)}` }),
      ),
    ]);
    this.files = files?.files ?? [];
    this.notes.textContent = devices.note;
    this.fillOptions(this.files, devices.devices);
    this.follow(this.page.known.status?.inputs.audio ?? null, true);
  }

  private fillOptions(files: string[], devices: AudioDeviceList['devices'] | null): void {
    const keep = this.select.value;
    fill(
      this.select,
      h('option', { text: 'no audio', attrs: { value: 'none' } }),
      h('option', { text: "this browser's microphone", attrs: { value: 'browser' } }),
      files.length ? h('optgroup', { attrs: { label: 'files on the server' } }, ...files.map((f) => h('option', { text: f, attrs: { value: `file:${f}` } }))) : null,
      devices?.length
        ? h('optgroup', { attrs: { label: 'capture on the server' } }, ...devices.map((d) => h('option', { text: `${d.name}${d.isDefault ? ' (default)' : ''}${d.monitor ? ' (monitor)' : ''}`, attrs: { value: `capture:${d.backend}:${d.id}` } })))
        : null,
    );
    if ([...Array.from(this.select.options)].some((o) => o.value === keep)) this.select.value = keep;
  }

  private async apply(value: string): Promise<void> {
    this.localAt = performance.now();
    if (value === 'browser') return this.startMic();
    if (this.mic.state !== 'off') await this.mic.stop(false);
    const source = value.startsWith('file:')
      ? { kind: 'file' as const, file: value.slice('file:'.length), loop: this.loop.checked }
      : value.startsWith('capture:')
        ? { kind: 'capture' as const, device: value.slice('capture:'.length) }
        : { kind: 'none' as const };
    this.status.textContent = source.kind === 'none' ? 'stopping audio…' : 'starting…';
    const r = await this.page.call<AudioStatus>('/audio', { method: 'POST', body: { source } }, 'audio source');
    this.localAt = performance.now();
    this.showStatus(r ?? null);
    if (!r && source.kind !== 'none') this.select.value = 'none';
  }

  private async toggleMic(): Promise<void> {
    this.localAt = performance.now();
    if (this.mic.state === 'off') {
      this.select.value = 'browser';
      await this.startMic();
    } else {
      await this.mic.stop(true);
      this.select.value = 'none';
    }
  }

  private async startMic(): Promise<void> {
    await this.mic.start();
    // Refused or failed (the microphone said why in a toast): show the server's source again.
    if (this.mic.state === 'off') this.follow(this.page.known.status?.inputs.audio ?? null, true);
  }

  /** The server's source, from status: the selector follows it (another page may have changed it). */
  private follow(a: AudioStatus, force = false): void {
    this.showStatus(a);
    // Another page (or the REST API) took the source away from this browser: stop sending.
    if (this.mic.state === 'on' && a?.spec !== 'browser' && performance.now() - this.localAt > LOCAL_WINS_MS) {
      this.page.toasts.show('warn', 'the audio source was changed elsewhere; this microphone stopped');
      void this.mic.stop(false);
    }
    if (!force && performance.now() - this.localAt < LOCAL_WINS_MS) return;
    const spec = a?.spec ?? 'none';
    if (spec === 'none' || spec === 'browser') this.select.value = spec;
    else if (spec === 'file') {
      const match = this.files.find((f) => a?.name.endsWith(`/${f}`) || a?.name.endsWith(`\\${f.replaceAll('/', '\\')}`));
      if (match) this.select.value = `file:${match}`;
    } else if (!this.select.value.startsWith('capture:')) {
      const first = Array.from(this.select.options).find((o) => o.value.startsWith('capture:'));
      if (first) this.select.value = first.value;
    }
  }

  private showStatus(a: AudioStatus): void {
    if (!a) {
      this.status.textContent = 'no audio source';
      this.status.classList.remove('bad');
      if (this.mic.state === 'off') this.meters.clear();
      return;
    }
    const where = a.positionS !== undefined ? ` · ${clock(a.positionS)}${a.durationS ? ` / ${clock(a.durationS)}` : ''}` : '';
    // A file source is named by its full path on the server; its name is what the performer picked.
    const name = a.spec === 'file' ? a.name.replace(/^file .*[\\/]/, 'file ') : a.name;
    this.status.title = a.name;
    this.status.textContent = `${name}: ${a.running ? 'playing' : 'stopped'} at ${a.sampleRate} Hz${where}${a.error ? ` · ${a.error}` : ''}`;
    this.status.classList.toggle('bad', a.error !== null);
  }

  private paintMic(): void {
    const s = this.mic.state;
    if (!this.mic.available) {
      // No getUserMedia outside secure contexts (http to another machine), or no AudioWorklet.
      this.micButton.textContent = 'no microphone here (needs https or localhost)';
      this.micButton.disabled = true;
      return;
    }
    this.micButton.textContent = s === 'on' ? '■ stop microphone' : s === 'starting' ? 'starting microphone…' : "use this browser's microphone";
    this.micButton.classList.toggle('on', s === 'on');
    this.micButton.disabled = s === 'starting';
    this.micButton.dataset['state'] = s;
  }
}
