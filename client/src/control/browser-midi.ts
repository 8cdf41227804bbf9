/**
 * This browser's MIDI devices (Web MIDI) forwarded to the server as `{type: 'midi', bytes}`, so a
 * controller plugged into the laptop that shows the page plays the server. Devices come and go (hot-plug,
 * statechange); every input is listened to. Bytes are batched for a few milliseconds into one message: a knob
 * turned fast sends hundreds of messages a second, more than the server's per-client rate limit, and the
 * server's parser takes back-to-back messages (running status included) in one array.
 */
import { fill, h, panel } from './dom.ts';
import type { Page } from './page.ts';

/** Bytes wait at most this long before they are sent. */
const BATCH_MS = 4;
/** The protocol's cap on one message's bytes. */
const MAX_BYTES = 4096;

export class BrowserMidi {
  readonly el: HTMLElement;
  private readonly button = h('button', { testid: 'midi-enable', text: "use this browser's MIDI", on: { click: () => this.enable() } });
  private readonly list = h('ul', { class: 'devices', testid: 'midi-devices' });
  private readonly note = h('div', { class: 'muted small', testid: 'midi-note' });
  private access: MIDIAccess | null = null;
  private readonly listening = new WeakSet<MIDIInput>();
  private pending: number[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** Messages forwarded, shown per device. */
  private readonly counts = new Map<string, number>();

  constructor(private readonly page: Page) {
    this.el = panel('MIDI in this browser', 'panel-midi', this.button, this.list, this.note);
    if (typeof navigator.requestMIDIAccess !== 'function') {
      this.button.disabled = true;
      this.note.textContent = 'This browser has no Web MIDI (Safari and iOS browsers lack it): plug the controller into the server machine, or use Chrome, Edge or Firefox here.';
    } else {
      this.note.textContent = 'Plug a controller into this device and tap the button; the server also reads its own MIDI ports.';
    }
    page.bus.on('status', (m) => {
      // The server's own ports, so the performer sees where else MIDI comes from.
      const ports = m.status.inputs.midi.ports.filter((p) => p.source === 'port' && p.connected).map((p) => p.name);
      this.el.dataset['serverPorts'] = ports.join(', ');
    });
  }

  async enable(): Promise<void> {
    if (this.access) return;
    try {
      this.access = await navigator.requestMIDIAccess({ sysex: false });
    } catch (e) {
      this.page.toasts.show('error', `Web MIDI was refused: ${e instanceof Error ? e.message : String(e)}`, "allow MIDI for this site in the browser's settings");
      return;
    }
    this.access.addEventListener('statechange', () => this.scan());
    this.button.disabled = true;
    this.button.textContent = 'browser MIDI on';
    this.button.classList.add('on');
    this.scan();
    // Keeps the per-device counts current (cheap: a handful of list items).
    setInterval(() => this.scan(), 1000);
  }

  /** Listens to every input not yet listened to, and lists them all. */
  private scan(): void {
    const access = this.access;
    if (!access) return;
    const inputs: MIDIInput[] = [];
    access.inputs.forEach((input) => inputs.push(input));
    for (const input of inputs) {
      if (this.listening.has(input)) continue;
      this.listening.add(input);
      input.addEventListener('midimessage', (e) => this.forward(input, e));
    }
    if (inputs.length === 0) {
      fill(this.list, h('li', { class: 'muted', text: 'no MIDI inputs: plug one in (it appears here by itself)' }));
      return;
    }
    fill(
      this.list,
      ...inputs.map((i) =>
        h(
          'li',
          { testid: 'midi-device', attrs: { 'data-state': i.state } },
          h('span', { class: `dot ${i.state === 'connected' ? 'ok' : 'off'}` }),
          h('span', { text: `${i.name ?? 'MIDI input'}${i.manufacturer ? ` · ${i.manufacturer}` : ''}` }),
          h('span', { class: 'muted count', text: `${this.counts.get(i.id) ?? 0}` }),
        ),
      ),
    );
  }

  private forward(input: MIDIInput, e: MIDIMessageEvent): void {
    const data = e.data;
    if (!data || data.length === 0) return;
    this.counts.set(input.id, (this.counts.get(input.id) ?? 0) + 1);
    if (this.pending.length + data.length > MAX_BYTES) this.flush();
    for (const b of data) this.pending.push(b);
    this.timer ??= setTimeout(() => this.flush(), BATCH_MS);
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const bytes = this.pending;
    this.pending = [];
    if (bytes.length) this.page.send({ type: 'midi', bytes });
  }
}
