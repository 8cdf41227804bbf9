/**
 * The common shape of audio sources: something that produces mono PCM and runs it through a
 * FeatureExtractor, announcing each frame. Sources own the I/O (ffmpeg, files, sockets); the features
 * stay pure in features.ts.
 *
 * Events: 'features' (one FeatureFrame per hop), 'error' (a RhodopsError, at most once per run; with no
 * listener it is only logged, so a failing source never crashes the server), 'end' (once per run,
 * after the last frame, whatever the cause: stop(), end of file, or failure).
 */
import { EventEmitter } from 'node:events';
import { messageOf, RhodopsError } from '../errors.ts';
import { logger } from '../log.ts';
import { FeatureExtractor, type FeatureFrame } from './features.ts';
import type { FeatureOptionsInput, Hertz } from './options.ts';

const log = logger('audio');

export type AudioSourceKind = 'capture' | 'file' | 'browser';

export interface AudioSourceStatus {
  name: string;
  kind: AudioSourceKind;
  running: boolean;
  sampleRate: Hertz;
  /** Frames produced in this source's life. */
  frames: number;
  /** rms and its normalised value in the newest frame (for level meters); 0 before the first. */
  rms: number;
  level: number;
  /** Why the last run ended badly, if it did. */
  error: string | null;
}

export interface AudioSourceEvents {
  features: [frame: FeatureFrame];
  error: [error: RhodopsError];
  end: [];
}

export interface AudioSource extends EventEmitter<AudioSourceEvents> {
  readonly name: string;
  readonly kind: AudioSourceKind;
  readonly extractor: FeatureExtractor;
  /** Starts producing; resolves once it runs (rejects, without an 'error' event, if it cannot start). */
  start(): Promise<void>;
  /** Stops and releases what it holds; resolves after 'end'. Safe to call at any time. */
  stop(): Promise<void>;
  status(): AudioSourceStatus;
}

export interface SourceBaseOptions {
  /** Shown in status and logs. */
  name?: string;
  /** An extractor to feed (keeps its automatic gain and tempo across a change of source); else a new one. */
  extractor?: FeatureExtractor;
  /** Options for the new extractor when none is given. */
  features?: FeatureOptionsInput;
}

export abstract class BaseAudioSource extends EventEmitter<AudioSourceEvents> implements AudioSource {
  abstract readonly kind: AudioSourceKind;
  readonly name: string;
  readonly extractor: FeatureExtractor;
  protected running = false;
  private frames = 0;
  private lastRms = 0;
  private lastLevel = 0;
  private lastError: string | null = null;
  private ended = true;
  private endWaiters: (() => void)[] = [];

  constructor(defaultName: string, o: SourceBaseOptions) {
    super();
    this.name = o.name ?? defaultName;
    this.extractor = o.extractor ?? new FeatureExtractor(o.features);
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.ended = false;
    this.lastError = null;
    try {
      await this.open();
    } catch (e) {
      this.running = false;
      this.ended = true;
      await this.close().catch(() => undefined);
      throw e;
    }
  }

  async stop(): Promise<void> {
    if (this.ended) return;
    const ended = new Promise<void>((resolve) => this.endWaiters.push(resolve));
    this.running = false;
    await this.close();
    this.finish();
    await ended;
  }

  status(): AudioSourceStatus {
    return {
      name: this.name,
      kind: this.kind,
      running: this.running,
      sampleRate: this.extractor.sampleRate,
      frames: this.frames,
      rms: this.lastRms,
      level: this.lastLevel,
      error: this.lastError,
    };
  }

  /** Subclasses: acquire resources and begin producing; throw to refuse the start. */
  protected abstract open(): Promise<void>;
  /** Subclasses: release everything; called once per run, from stop() or after a failure. */
  protected abstract close(): Promise<void>;

  /** Runs samples through the extractor and announces each frame. A listener's exception is logged, not thrown into the I/O. */
  protected deliver(samples: Float32Array): void {
    if (!this.running || samples.length === 0) return;
    for (const frame of this.extractor.push(samples)) this.announce(frame);
  }

  protected announce(frame: FeatureFrame): void {
    this.frames++;
    this.lastRms = frame.rms;
    this.lastLevel = frame.normalized.rms;
    try {
      this.emit('features', frame);
    } catch (e) {
      log.warn(`${this.name}: a 'features' listener threw: ${messageOf(e)}`);
    }
  }

  /** The run failed: report it once (event if anyone listens, log always), release, end. */
  protected fail(error: RhodopsError): void {
    if (this.ended) return;
    this.lastError = error.message;
    this.running = false;
    log.warn(`${this.name}: ${error.message}`);
    if (this.listenerCount('error') > 0) this.emit('error', error);
    void this.close()
      .catch((e: unknown) => log.warn(`${this.name}: while closing: ${messageOf(e)}`))
      .finally(() => this.finish());
  }

  /** The run ended (stop, end of input, failure): 'end' once. */
  protected finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.running = false;
    this.emit('end');
    for (const w of this.endWaiters.splice(0)) w();
  }
}
