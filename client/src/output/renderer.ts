/**
 * Draws the picture with three.js (WebGL2): one full-screen quad whose shader blends two frame textures and
 * applies the display settings (see shaders.ts). Feedback trails render into two render targets in turn
 * (each frame reads the other) and copy the result to the screen. Nothing is allocated per draw: uniforms
 * are updated in place and defines change only when the settings do.
 */
import {
  GLSL3,
  HalfFloatType,
  LinearFilter,
  Matrix3,
  Mesh,
  OrthographicCamera,
  PlaneGeometry,
  RawShaderMaterial,
  Scene,
  UnsignedByteType,
  Vector2,
  WebGLRenderer,
  Vector4,
  WebGLRenderTarget,
} from 'three';
import type { DisplaySettings } from '../lib/protocol.ts';
import type { FramePixels } from '../lib/frames.ts';
import { BLIT_FRAGMENT, FRAME_FRAGMENT, QUAD_VERTEX } from './shaders.ts';
import { fitScale, INITIAL_DISPLAY } from './settings.ts';
import { colourIsIdentity, colourMatrix } from '../../../protocol/look.ts';
import { TexturePool, type FrameTexture } from './textures.ts';
import { cameraMatrix, CONTRAST_MAX, FLASH_MAX, NO_CAMERA, type Camera } from '../../../core/camera.ts';

const UPSCALE_DEFINE: Record<DisplaySettings['upscale'], number> = { nearest: 0, bilinear: 1, bicubic: 2 };

export class OutputRenderer {
  readonly gl: WebGL2RenderingContext;
  private readonly renderer: WebGLRenderer;
  private readonly scene = new Scene();
  private readonly camera = new OrthographicCamera(-1, 1, 1, -1, 0, 1);
  private readonly geometry = new PlaneGeometry(2, 2);
  private readonly frameMaterial: RawShaderMaterial;
  private readonly blitMaterial: RawShaderMaterial;
  private readonly quad: Mesh;
  private readonly pool: TexturePool;
  /** Feedback trails: two targets, written in turn (the other one read); null while trails are off. */
  private targets: [WebGLRenderTarget, WebGLRenderTarget] | null = null;
  private ping = 0;
  private settings: DisplaySettings = { ...INITIAL_DISPLAY };
  private readonly scale = { x: 1, y: 1 };
  private readonly colour: number[] = new Array<number>(9).fill(0);
  private readonly size = new Vector2();
  private readonly cameraM: number[] = [1, 0, 0, 1];

  constructor(canvas: HTMLCanvasElement) {
    // No antialiasing (one quad), no depth; the drawing buffer is not preserved: probes read it in the task that drew.
    this.renderer = new WebGLRenderer({ canvas, antialias: false, alpha: false, depth: false, stencil: false, powerPreference: 'high-performance' });
    this.renderer.autoClear = false;
    this.gl = this.renderer.getContext() as WebGL2RenderingContext;
    this.pool = new TexturePool(this.renderer);
    this.frameMaterial = new RawShaderMaterial({
      glslVersion: GLSL3,
      vertexShader: QUAD_VERTEX,
      fragmentShader: FRAME_FRAGMENT,
      depthTest: false,
      depthWrite: false,
      uniforms: {
        uA: { value: null },
        uB: { value: null },
        uT: { value: 1 },
        uScale: { value: new Vector2(1, 1) },
        uSharpen: { value: 0 },
        uColor: { value: new Matrix3() },
        uBrightness: { value: 0 },
        uContrast: { value: 1 },
        uInvGamma: { value: 1 },
        uPrev: { value: null },
        uTrails: { value: 0 },
        uCamera: { value: new Vector4(1, 0, 0, 1) },
        uFlash: { value: 0 },
        uPunch: { value: 1 },
      },
    });
    this.blitMaterial = new RawShaderMaterial({ glslVersion: GLSL3, vertexShader: QUAD_VERTEX, fragmentShader: BLIT_FRAGMENT, depthTest: false, depthWrite: false, uniforms: { uSrc: { value: null } } });
    this.quad = new Mesh(this.geometry, this.frameMaterial);
    this.quad.frustumCulled = false;
    this.scene.add(this.quad);
    this.applySettings(this.settings);
  }

  /**
   * Canvas size in CSS pixels; drawn at the device pixel ratio, capped at 2 (4K projectors from a laptop),
   * times `scale` (below 1 when the GPU cannot keep up: the browser enlarges the canvas).
   */
  resize(width: number, height: number, devicePixelRatio: number, scale = 1): void {
    this.renderer.setPixelRatio(Math.min(2, Math.max(1, devicePixelRatio)) * scale);
    this.renderer.setSize(width, height);
    if (this.targets) {
      const s = this.renderer.getDrawingBufferSize(this.size);
      for (const t of this.targets) t.setSize(s.x, s.y);
      this.clearTargets();
    }
  }

  applySettings(s: DisplaySettings): void {
    const before = this.settings;
    this.settings = { ...s };
    const m = this.frameMaterial;
    const defines = { UPSCALE: UPSCALE_DEFINE[s.upscale], SHARPEN: s.sharpen > 0 ? 1 : 0, COLOR: colourIsIdentity(s) ? 0 : 1, TRAILS: s.trails > 0 ? 1 : 0 };
    const old = m.defines as Partial<typeof defines>;
    if (old.UPSCALE !== defines.UPSCALE || old.SHARPEN !== defines.SHARPEN || old.COLOR !== defines.COLOR || old.TRAILS !== defines.TRAILS) {
      m.defines = defines;
      m.needsUpdate = true;
    }
    const u = m.uniforms;
    u['uSharpen']!.value = s.sharpen;
    u['uBrightness']!.value = s.brightness;
    u['uContrast']!.value = s.contrast;
    u['uInvGamma']!.value = 1 / s.gamma;
    u['uTrails']!.value = s.trails;
    colourMatrix(s.hue, s.saturation, this.colour);
    const c = this.colour;
    (u['uColor']!.value as Matrix3).set(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, c[8]!);
    if (s.trails > 0 && !this.targets) this.createTargets();
    else if (s.trails === 0 && this.targets) this.disposeTargets();
    else if (s.trails > 0 && before.trails === 0) this.clearTargets();
  }

  private createTargets(): void {
    const s = this.renderer.getDrawingBufferSize(this.size);
    // Half float keeps slow fades smooth; 8 bits where the GPU cannot render to half floats.
    const half = this.renderer.extensions.has('EXT_color_buffer_float') || this.renderer.extensions.has('EXT_color_buffer_half_float');
    const make = () => new WebGLRenderTarget(s.x, s.y, { type: half ? HalfFloatType : UnsignedByteType, depthBuffer: false, stencilBuffer: false, minFilter: LinearFilter, magFilter: LinearFilter, generateMipmaps: false });
    this.targets = [make(), make()];
    this.clearTargets();
  }

  private clearTargets(): void {
    if (!this.targets) return;
    for (const t of this.targets) {
      this.renderer.setRenderTarget(t);
      this.renderer.clear();
    }
    this.renderer.setRenderTarget(null);
  }

  private disposeTargets(): void {
    for (const t of this.targets ?? []) t.dispose();
    this.targets = null;
  }

  /** Uploads a decoded frame now (off the display loop); the caller may then close its ImageBitmap. */
  upload(pixels: FramePixels, width: number, height: number): FrameTexture {
    return this.pool.upload(pixels, width, height);
  }

  release(t: FrameTexture): void {
    this.pool.release(t);
  }

  textureCounts(): { live: number; idle: number } {
    return this.pool.counts();
  }

  /** Whether the picture changes with time on its own (trails fade): then every display frame draws. */
  get animating(): boolean {
    return this.targets !== null;
  }

  /** Draws `a` blended towards `b` by `t` (t = 1: `b` alone) with the camera moves, or black without a frame. */
  draw(a: FrameTexture | null, b: FrameTexture | null, t: number, camera: Readonly<Camera> = NO_CAMERA): void {
    const r = this.renderer;
    if (!b) {
      r.setRenderTarget(null);
      r.clear();
      return;
    }
    const u = this.frameMaterial.uniforms;
    u['uA']!.value = (a ?? b).texture;
    u['uB']!.value = b.texture;
    u['uT']!.value = a ? t : 1;
    const buf = r.getDrawingBufferSize(this.size);
    fitScale(this.settings.fit, b.width, b.height, buf.x, buf.y, this.scale);
    (u['uScale']!.value as Vector2).set(this.scale.x, this.scale.y);
    cameraMatrix(camera, b.width / b.height, this.cameraM);
    const m = this.cameraM;
    (u['uCamera']!.value as Vector4).set(m[0]!, m[1]!, m[2]!, m[3]!);
    u['uFlash']!.value = FLASH_MAX * camera.flash;
    u['uPunch']!.value = 1 + CONTRAST_MAX * camera.contrast;
    this.quad.material = this.frameMaterial;
    if (!this.targets) {
      r.setRenderTarget(null);
      r.render(this.scene, this.camera);
      return;
    }
    const write = this.targets[this.ping]!;
    const read = this.targets[1 - this.ping]!;
    u['uPrev']!.value = read.texture;
    r.setRenderTarget(write);
    r.render(this.scene, this.camera);
    this.blitMaterial.uniforms['uSrc']!.value = write.texture;
    this.quad.material = this.blitMaterial;
    r.setRenderTarget(null);
    r.render(this.scene, this.camera);
    this.ping = 1 - this.ping;
  }

  /**
   * The drawn pixels at normalized canvas points ([0,0] top left, [1,1] bottom right), read back from the
   * drawing buffer: call in the same task as draw(), before the browser presents and clears it.
   */
  readPixels(points: readonly (readonly [number, number])[]): [number, number, number][] {
    const gl = this.gl;
    this.renderer.setRenderTarget(null);
    const w = gl.drawingBufferWidth;
    const h = gl.drawingBufferHeight;
    const px = new Uint8Array(4);
    return points.map(([x, y]) => {
      // The pixel whose square holds the point; GL counts rows from the bottom.
      const cx = Math.min(w - 1, Math.max(0, Math.floor(x * w)));
      const cy = h - 1 - Math.min(h - 1, Math.max(0, Math.floor(y * h)));
      gl.readPixels(cx, cy, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);
      return [px[0]!, px[1]!, px[2]!];
    });
  }

  dispose(): void {
    this.disposeTargets();
    this.pool.dispose();
    this.geometry.dispose();
    this.frameMaterial.dispose();
    this.blitMaterial.dispose();
    this.renderer.dispose();
  }
}
