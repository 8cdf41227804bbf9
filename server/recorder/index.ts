/**
 * Recording takes with ffmpeg for music videos.
 *
 *   await prepareRecorder();                  // at server start: finds ffmpeg and ffprobe (the first take starts sooner)
 *   const take = await Recorder.start({ dir, width, height, fps: 30, audio: 'song.wav', smooth: true });
 *   take.pushFrame(rgb, performance.now());   // from the render loop: never blocks, never throws
 *   take.stats();                             // queued / written / dropped / elapsed / bytes, for status
 *   const summary = await take.stop();        // files, frames, duration, audio; never rejects
 *   await Recorder.list(dir);                 // takes on disk, for the REST API
 *
 * Files in `dir` for a take named N:
 *   N.mkv        written live (H.264 yuv420p, BT.709), crash-safe: playable up to a kill of ffmpeg or the server.
 *   N.mp4        made at stop: the same video stream copied (exact 1/fps timestamps, faststart), the audio file as AAC.
 *   N.smooth.mp4 with `smooth`: 2×fps through minterpolate.
 * The MKV is deleted once the MP4 is shown (ffprobe) to hold every frame written; otherwise it is kept.
 */
import { listTakes } from './list.ts';
import { startTake } from './take.ts';

export { listTakes } from './list.ts';
export { Take, prepareRecorder, startTake, type TakeEvents } from './take.ts';
export { defaultQueueFrames, type TakeOptions, type X264Preset } from './options.ts';

export const Recorder = { start: startTake, list: listTakes } as const;
