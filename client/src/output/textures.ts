/**
 * GPU textures for received frames, pooled: a frame is uploaded once when it arrives and its texture goes
 * back to the pool when the schedule lets the frame go. A texture of the same kind and size is refilled
 * in place (three.js then updates the storage it allocated with texSubImage2D); one of another size (after
 * a model switch) is disposed. The pool keeps at most `spare` idle textures, so GPU memory stays bounded
 * by the frames held plus the spares.
 */
import { ClampToEdgeWrapping, DataTexture, LinearFilter, NoColorSpace, RGBAFormat, Texture, UnsignedByteType, type WebGLRenderer } from 'three';
import type { FramePixels } from '../lib/frames.ts';

export interface FrameTexture {
  readonly texture: Texture;
  readonly kind: FramePixels['kind'];
  readonly width: number;
  readonly height: number;
}

function configure(t: Texture): void {
  // Flipping is the shader's (ImageBitmaps ignore UNPACK_FLIP_Y). Linear filtering serves bilinear and the
  // bicubic's bilinear taps; nearest reads texels directly. No mipmaps: frames are rarely drawn smaller.
  t.flipY = false;
  t.generateMipmaps = false;
  t.minFilter = LinearFilter;
  t.magFilter = LinearFilter;
  t.wrapS = ClampToEdgeWrapping;
  t.wrapT = ClampToEdgeWrapping;
  // The frames' sRGB values go to the screen as they are: no colour conversion on the way in or out.
  t.colorSpace = NoColorSpace;
}

export class TexturePool {
  private readonly idle: FrameTexture[] = [];
  private live = 0;

  constructor(
    private readonly renderer: WebGLRenderer,
    private readonly spare = 2,
  ) {}

  /** Uploads the pixels now (not at the next draw), so the caller may close an ImageBitmap right after. */
  upload(pixels: FramePixels, width: number, height: number): FrameTexture {
    const i = this.idle.findIndex((f) => f.kind === pixels.kind && f.width === width && f.height === height);
    let ft: FrameTexture;
    if (i >= 0) {
      ft = this.idle.splice(i, 1)[0]!;
      if (pixels.kind === 'bitmap') ft.texture.image = pixels.bitmap;
      else ft.texture.image = { data: pixels.data, width, height };
    } else {
      // No idle texture fits: the size changed (a model switch), and the idle ones of the old size go.
      for (const f of this.idle) f.texture.dispose();
      this.idle.length = 0;
      const texture = pixels.kind === 'bitmap' ? new Texture(pixels.bitmap) : new DataTexture(pixels.data, width, height, RGBAFormat, UnsignedByteType);
      configure(texture);
      ft = { texture, kind: pixels.kind, width, height };
    }
    ft.texture.needsUpdate = true;
    this.renderer.initTexture(ft.texture);
    this.live++;
    return ft;
  }

  release(ft: FrameTexture): void {
    this.live--;
    if (this.idle.length >= this.spare) ft.texture.dispose();
    else this.idle.push(ft);
  }

  /** Textures in use by held frames, and idle ones: for the status overlay and the bounded-memory check. */
  counts(): { live: number; idle: number } {
    return { live: this.live, idle: this.idle.length };
  }

  dispose(): void {
    for (const f of this.idle) f.texture.dispose();
    this.idle.length = 0;
  }
}
