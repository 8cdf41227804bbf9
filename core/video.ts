/**
 * How rhodops writes H.264, live takes and offline renders alike, so a take and its replay look the same:
 * RGB in, BT.709 limited-range yuv420p out and tagged as such (what players and editors assume for web
 * video; swscale's untagged default is BT.601, which shifts colours slightly in most players), and odd sides
 * padded by one black pixel (yuv420p needs even sides; padding keeps pixels 1:1).
 */

/** The encoded size of a picture. */
export function evenSize(width: number, height: number): { width: number; height: number } {
  return { width: width + (width % 2), height: height + (height % 2) };
}

/** The filter from RGB frames of this size to what is encoded. */
export function videoFilter(width: number, height: number): string {
  const even = evenSize(width, height);
  const pad = even.width !== width || even.height !== height ? [`pad=${even.width}:${even.height}:0:0:black`] : [];
  return [...pad, 'scale=out_color_matrix=bt709:out_range=tv', 'format=yuv420p'].join(',');
}

/** The colour tags of what `videoFilter` makes. */
export const COLOR_TAGS = ['-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709', '-color_range', 'tv'];

/** Options before `-i pipe:0`: raw RGB frames of this size, one every 1/fps. */
export function rawRgbInput(width: number, height: number, fps: number): string[] {
  return ['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-framerate', String(fps)];
}

/**
 * x264 with the filter and tags above. A keyframe re-encodes the whole picture while the frames before it
 * drifted, so each one shows as a pulse, the most regular beat on screen and not the music's. Measured on a
 * slowly turning picture (a keyframe's change ÷ the frames' before it): 2.2 with x264's defaults; without
 * macroblock-tree and with I, P and B frames at one quantizer, 1.8, and 1.7 at CRF 14. So those, and a keyframe
 * every 10 s (x264 still adds one at a cut), not every 2 s.
 */
export function h264Output(o: { width: number; height: number; fps: number; preset: string; crf: number }): string[] {
  return [
    '-vf', videoFilter(o.width, o.height),
    '-c:v', 'libx264', '-preset', o.preset, '-crf', String(o.crf),
    '-g', String(Math.round(10 * o.fps)),
    '-x264-params', 'mbtree=0:ipratio=1.0:pbratio=1.0',
    ...COLOR_TAGS,
  ];
}

/** Frames per second of anything rendered or recorded: the live loop, takes and offline videos. */
export const FPS_RANGE = { min: 1, max: 240, integer: true } as const;
