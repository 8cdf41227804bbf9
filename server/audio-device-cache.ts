/**
 * The audio devices the server offers pages. Listing them runs ffmpeg and arecord (about a second), so one
 * probe runs at a time, callers meanwhile share it, and its answer is kept for a while: a burst of requests
 * costs one probe, not one process each.
 */
import { listAudioDevices, type AudioDeviceList } from '../core/audio/index.ts';

export class AudioDeviceCache {
  private pending: Promise<AudioDeviceList> | null = null;
  private cached: { at: number; list: AudioDeviceList } | null = null;

  constructor(
    private readonly probe: () => Promise<AudioDeviceList> = () => listAudioDevices(),
    private readonly maxAgeMs = 10_000,
  ) {}

  list(): Promise<AudioDeviceList> {
    const c = this.cached;
    if (c && performance.now() - c.at < this.maxAgeMs) return Promise.resolve(c.list);
    this.pending ??= this.probe()
      .then((list) => {
        this.cached = { at: performance.now(), list };
        return list;
      })
      .finally(() => {
        this.pending = null;
      });
    return this.pending;
  }
}
