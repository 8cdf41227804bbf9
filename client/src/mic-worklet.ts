/**
 * The microphone's AudioWorklet: mixes the input to mono and posts it to the page in chunks of 2048 samples
 * (~43 ms at 48 kHz: about 23 messages a second, well inside the server's rate limit), each a fresh
 * Float32Array transferred, not copied. Runs on the audio thread; the page packs and sends the chunks.
 */

// AudioWorklet globals are not in lib.dom; declared here, in this module only.
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
}
declare function registerProcessor(name: string, processor: new () => AudioWorkletProcessor): void;

const CHUNK = 2048;

class MicChunker extends AudioWorkletProcessor {
  private buf = new Float32Array(CHUNK);
  private filled = 0;

  process(inputs: Float32Array[][]): boolean {
    const channels = inputs[0];
    const first = channels?.[0];
    if (!channels || !first) return true; // no input connected yet (or the track ended): keep the node alive
    const n = first.length;
    const scale = 1 / channels.length;
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (const ch of channels) sum += ch[i] ?? 0;
      this.buf[this.filled++] = sum * scale;
      if (this.filled === CHUNK) {
        this.port.postMessage(this.buf, [this.buf.buffer]);
        this.buf = new Float32Array(CHUNK);
        this.filled = 0;
      }
    }
    return true;
  }
}

registerProcessor('rhodops-mic', MicChunker);

export {};
