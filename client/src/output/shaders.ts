/**
 * The output page's shaders (GLSL ES 3.0, raw: three.js adds only `#version 300 es` and the defines).
 * One pass draws the picture: fit → camera zoom and turn → upscale filter → unsharp mask → blend of two frames →
 * colour → camera flash and punch, and with trails on, the previous output kept by `trails`. The camera's
 * formulas are core/camera.ts's, which the offline renderer uses too. Options that change rarely are compile-time defines, so
 * the fragment shader carries no branch the display settings do not use (SwiftShader runs it on the CPU).
 */

export const QUAD_VERTEX = /* glsl */ `
precision highp float;
in vec3 position;
out vec2 vUv;
void main() {
  vUv = position.xy * 0.5 + 0.5;
  gl_Position = vec4(position.xy, 0.0, 1.0);
}
`;

/** Defines: UPSCALE 0 nearest | 1 bilinear | 2 bicubic; SHARPEN, COLOR, TRAILS 0 | 1. */
export const FRAME_FRAGMENT = /* glsl */ `
precision highp float;
precision highp int;
precision highp sampler2D;

uniform sampler2D uA;
uniform sampler2D uB;
/** Weight of frame B (1: B alone). */
uniform float uT;
/** Screen uv → frame uv about the centre: fit (bars), fill (crop) or stretch. */
uniform vec2 uScale;
uniform float uSharpen;
/** Hue rotation and saturation in one matrix. */
uniform mat3 uColor;
uniform float uBrightness;
uniform float uContrast;
uniform float uInvGamma;
uniform sampler2D uPrev;
uniform float uTrails;
/** The camera: frame uv about the centre → where it samples (row-major 2×2), flash and punch amounts. */
uniform vec4 uCamera;
uniform float uFlash;
uniform float uPunch;

in vec2 vUv;
out vec4 outColor;

#if UPSCALE == 2
// Catmull-Rom from bilinear fetches: on each axis the hardware filter does the middle pair of taps (weights
// w1, w2 in one fetch at the offset that reproduces their sum), and the four corner taps (products of two
// small negative weights) are left out and the rest renormalized: 5 fetches instead of 16, visually the same.
vec3 catmullRom(sampler2D tex, vec2 uv, vec2 size) {
  vec2 pos = uv * size;
  vec2 p1 = floor(pos - 0.5) + 0.5;
  vec2 f = pos - p1;
  vec2 w0 = f * (-0.5 + f * (1.0 - 0.5 * f));
  vec2 w1 = 1.0 + f * f * (-2.5 + 1.5 * f);
  vec2 w2 = f * (0.5 + f * (2.0 - 1.5 * f));
  vec2 w3 = f * f * (-0.5 + 0.5 * f);
  vec2 w12 = w1 + w2;
  vec2 p0 = (p1 - 1.0) / size;
  vec2 p3 = (p1 + 2.0) / size;
  vec2 p12 = (p1 + w2 / w12) / size;
  float wn = w12.x * w0.y;
  float ww = w0.x * w12.y;
  float wc = w12.x * w12.y;
  float we = w3.x * w12.y;
  float ws = w12.x * w3.y;
  vec3 c = texture(tex, vec2(p12.x, p0.y)).rgb * wn
         + texture(tex, vec2(p0.x, p12.y)).rgb * ww
         + texture(tex, p12).rgb * wc
         + texture(tex, vec2(p3.x, p12.y)).rgb * we
         + texture(tex, vec2(p12.x, p3.y)).rgb * ws;
  // Catmull-Rom overshoots at edges; the overshoot past black or white is only ringing.
  return clamp(c / (wn + ww + wc + we + ws), 0.0, 1.0);
}
#endif

vec3 base(sampler2D tex, vec2 uv) {
  vec2 size = vec2(textureSize(tex, 0));
#if UPSCALE == 0
  // texelFetch: exact source pixels whatever the texture's filter.
  ivec2 p = clamp(ivec2(floor(uv * size)), ivec2(0), ivec2(size) - 1);
  return texelFetch(tex, p, 0).rgb;
#elif UPSCALE == 1
  return texture(tex, uv).rgb;
#else
  return catmullRom(tex, uv, size);
#endif
}

#if SHARPEN
/** The neighbours for the unsharp mask's blur: bilinear is enough for a blur (4 fetches, not 20 bicubic ones). */
vec3 neighbour(sampler2D tex, vec2 uv) {
#if UPSCALE == 0
  return base(tex, uv);
#else
  return texture(tex, uv).rgb;
#endif
}
#endif

vec3 frame(sampler2D tex, vec2 uv) {
  vec3 c = base(tex, uv);
#if SHARPEN
  // Unsharp mask at the frame's own pixel scale (the paintings were sharpened at theirs, not the screen's).
  vec2 d = 1.0 / vec2(textureSize(tex, 0));
  vec3 blur = 0.25 * (neighbour(tex, uv + vec2(d.x, 0.0)) + neighbour(tex, uv - vec2(d.x, 0.0))
                    + neighbour(tex, uv + vec2(0.0, d.y)) + neighbour(tex, uv - vec2(0.0, d.y)));
  c = clamp(c + uSharpen * (c - blur), 0.0, 1.0);
#endif
  return c;
}

/** Past the frame's edge a turned or zoomed picture continues mirrored, never black corners. */
vec2 mirror(vec2 uv) {
  return 1.0 - abs(mod(uv, 2.0) - 1.0);
}

void main() {
  vec2 uv = (vUv - 0.5) * uScale + 0.5;
  vec3 c = vec3(0.0);
  if (uv.x >= 0.0 && uv.x <= 1.0 && uv.y >= 0.0 && uv.y <= 1.0) {
    // Frames are uploaded as they come (rows top to bottom, no flip): screen up is texture row 0.
    uv.y = 1.0 - uv.y;
    vec2 p = uv - 0.5;
    uv = mirror(vec2(uCamera.x * p.x + uCamera.y * p.y, uCamera.z * p.x + uCamera.w * p.y) + 0.5);
    c = frame(uB, uv);
    if (uT < 1.0) c = mix(frame(uA, uv), c, uT);
#if COLOR
    c = uColor * c;
    c = (c - 0.5) * uContrast + 0.5 + uBrightness;
    c = pow(clamp(c, 0.0, 1.0), vec3(uInvGamma));
#endif
    c = clamp((c - 0.5) * uPunch + 0.5, 0.0, 1.0);
    c += (1.0 - c) * uFlash;
  }
#if TRAILS
  // Feedback: what was on screen fades by uTrails a frame; a brighter new picture wins. The small
  // subtraction lets dim trails reach black even where the target rounds to 8 bits.
  vec3 prev = texture(uPrev, vUv).rgb;
  c = max(c, prev * uTrails - 1.0 / 512.0);
#endif
  outColor = vec4(c, 1.0);
}
`;

export const BLIT_FRAGMENT = /* glsl */ `
precision highp float;
precision highp sampler2D;
uniform sampler2D uSrc;
in vec2 vUv;
out vec4 outColor;
void main() {
  outColor = vec4(texture(uSrc, vUv).rgb, 1.0);
}
`;
