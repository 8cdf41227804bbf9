/**
 * This browser's microphone as the server's audio source: getUserMedia → AudioContext → the mic worklet
 * (client/src/mic-worklet.ts) → Float32 chunks packed as RHA1 messages → the WebSocket (sendBinary drops a
 * chunk while the socket is backed up: the features skip a beat rather than fall behind). The server's
 * source is switched to `browser` before the first chunk. Stopping releases the tracks and closes the context.
 */
import type { Page } from './page.ts';
import { packPcm } from './pcm.ts';

export type MicState = 'off' | 'starting' | 'on';

interface Running {
  ctx: AudioContext;
  stream: MediaStream;
  node: AudioWorkletNode;
}

export class Microphone {
  state: MicState = 'off';
  /** Chunks sent and dropped (socket backed up or closed), for the panel. */
  sent = 0;
  dropped = 0;
  private run: Running | null = null;
  /** Bumped by stop(): a start still awaiting permission or the worklet gives up when it resumes. */
  private generation = 0;
  onChange: () => void = () => undefined;

  constructor(private readonly page: Page) {}

  get available(): boolean {
    return typeof navigator.mediaDevices?.getUserMedia === 'function' && typeof AudioWorkletNode === 'function';
  }

  async start(): Promise<void> {
    if (this.state !== 'off') return;
    if (!this.available) {
      this.page.toasts.show('error', 'this browser cannot capture audio here', 'microphones need https (or localhost) and a browser with AudioWorklet');
      return;
    }
    const gen = ++this.generation;
    this.set('starting');
    let stream: MediaStream | null = null;
    let ctx: AudioContext | null = null;
    try {
      // The features want the raw signal: no echo cancellation, noise suppression or automatic gain.
      stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
      ctx = new AudioContext();
      await ctx.audioWorklet.addModule(new URL('/dist/mic-worklet.js', location.href).href);
      const node = new AudioWorkletNode(ctx, 'rhodops-mic', { numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1] });
      if (gen !== this.generation) throw new Error('stopped while starting');
      const ok = await this.page.call('/audio', { method: 'POST', body: { source: { kind: 'browser' } } }, 'microphone');
      if (!ok || gen !== this.generation) throw new Error('the server did not take the browser source');
      const rate = ctx.sampleRate;
      node.port.onmessage = (e: MessageEvent<Float32Array>) => {
        if (this.page.conn.sendBinary(packPcm(e.data, rate))) this.sent++;
        else this.dropped++;
      };
      // A worklet is only pulled when it leads somewhere: into a muted gain, so nothing is heard.
      const mute = ctx.createGain();
      mute.gain.value = 0;
      ctx.createMediaStreamSource(stream).connect(node).connect(mute).connect(ctx.destination);
      await ctx.resume();
      this.run = { ctx, stream, node };
      // Unplugged, or revoked in the browser's settings: say so rather than stream silence.
      for (const t of stream.getTracks()) {
        t.addEventListener('ended', () => {
          if (this.run?.stream !== stream) return;
          this.page.toasts.show('warn', 'the microphone went away; audio stopped');
          void this.stop(true);
        });
      }
      this.sent = 0;
      this.dropped = 0;
      this.set('on');
    } catch (e) {
      for (const t of stream?.getTracks() ?? []) t.stop();
      void ctx?.close().catch(() => undefined);
      if (gen === this.generation) {
        this.set('off');
        const denied = e instanceof DOMException && (e.name === 'NotAllowedError' || e.name === 'SecurityError');
        const missing = e instanceof DOMException && e.name === 'NotFoundError';
        if (denied) this.page.toasts.show('error', 'microphone access was refused', "allow the microphone in the browser's site settings, then try again");
        else if (missing) this.page.toasts.show('error', 'this device has no microphone', 'plug one in, or play along with a file');
        else if (!(e instanceof Error && e.message === 'the server did not take the browser source')) this.page.toasts.error(e, 'microphone');
      }
    }
  }

  /** Stops capturing; `releaseSource` also sets the server's audio source back to none. */
  async stop(releaseSource: boolean): Promise<void> {
    this.generation++;
    const r = this.run;
    this.run = null;
    if (r) {
      r.node.port.onmessage = null;
      r.node.disconnect();
      for (const t of r.stream.getTracks()) t.stop();
      await r.ctx.close().catch(() => undefined);
    }
    const was = this.state;
    this.set('off');
    if (releaseSource && was !== 'off') await this.page.call('/audio', { method: 'POST', body: { source: { kind: 'none' } } }, 'microphone');
  }

  private set(s: MicState): void {
    this.state = s;
    this.onChange();
  }
}
