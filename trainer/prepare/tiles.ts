/**
 * Where the tiles of one (upscaled) source image go, and which rotations each gets. Pure: no pixels here,
 * so the plan can be tested exactly and a resumed run can tell what a source should produce from its
 * header alone.
 *
 * A scale is "SIZE:N": tiles of SIZE pixels (or SIZE × the short side when SIZE ≤ 1), N of them across the
 * short side, spread evenly from edge to edge so neighbours overlap; the long side gets as many as keep the
 * same spacing. Every tile is rotated 0/90/180/270°. Interior tiles (touching no image edge) that still lie
 * inside the image when turned 45° about their centre are also rotated 45/135/225°: the √2-larger region
 * around them supplies the content that fills the corners a 45° turn would otherwise leave empty.
 */
import { RhodopsError } from '../../core/errors.ts';

export interface ScaleSpec {
  /** > 1: the tile side in pixels of the upscaled image; in (0, 1]: a fraction of its short side. */
  size: number;
  /** Tiles across the short side. */
  grid: number;
}

/**
 * 1448:3 and 1024:4 on a 2048² image (a 1024² source doubled), as fractions so every source size gets them.
 * 0.7071, just under 1/√2, so the middle tile turned 45° still fits the image at any size.
 */
export const DEFAULT_SCALES = '0.7071:3,0.5:4';
export const AXIS_ROTATIONS = [0, 90, 180, 270] as const;
export const DIAGONAL_ROTATIONS = [45, 135, 225] as const;
export type Rotation = (typeof AXIS_ROTATIONS)[number] | (typeof DIAGONAL_ROTATIONS)[number];

/** Tiles below this are too small to be worth training on (and break the √2 region arithmetic). */
export const MIN_TILE = 8;
const MAX_GRID = 32;

const SCALES_HINT = `write scales as SIZE:N[,SIZE:N…]: SIZE in pixels (e.g. 1448) or a fraction of the short side (e.g. 0.5), N tiles across; default ${DEFAULT_SCALES}`;

export function parseScales(text: string): ScaleSpec[] {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.length === 0 || parts.some((p) => p === '')) throw new RhodopsError('BAD_OPTION', `--scales '${text}' has an empty entry.`, { hint: SCALES_HINT });
  return parts.map((p) => {
    const m = /^(\d+(?:\.\d+)?|\.\d+):(\d+)$/.exec(p);
    if (!m) throw new RhodopsError('BAD_OPTION', `--scales entry '${p}' is not SIZE:N.`, { hint: SCALES_HINT });
    const size = Number(m[1]);
    const grid = Number(m[2]);
    if (!(size > 0) || (size > 1 && !Number.isInteger(size)) || (size > 1 && size < MIN_TILE)) {
      throw new RhodopsError('BAD_OPTION', `--scales entry '${p}': SIZE must be a whole number of pixels ≥ ${MIN_TILE} or a fraction in (0, 1].`, { hint: SCALES_HINT });
    }
    if (grid < 1 || grid > MAX_GRID) throw new RhodopsError('BAD_OPTION', `--scales entry '${p}': N must be 1 to ${MAX_GRID}.`, { hint: SCALES_HINT });
    return { size, grid };
  });
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Tile {
  x: number;
  y: number;
  size: number;
  /** Row and column in this scale's grid, from 0 at the top left. */
  row: number;
  col: number;
  /** Touches an edge of the image. */
  edge: boolean;
  /** The part of the image the 45° rotations are cut from (the tile turned 45° lies in it); only where they are planned. */
  diagonal: Rect | null;
}

export interface PlannedOutput {
  name: string;
  tile: Tile;
  rotation: Rotation;
}

export interface SourcePlan {
  width: number;
  height: number;
  tiles: Tile[];
  outputs: PlannedOutput[];
  /** Scales left out or rotations not planned, and why (for the summary). */
  notes: string[];
}

export interface PlanOptions {
  scales: readonly ScaleSpec[];
  /** Plan 45/135/225° rotations for the interior tiles (default true). */
  diagonal?: boolean;
  /** Plan 90/180/270° turns (default true); without them, every tile is upright (and has no diagonal turns). */
  turns?: boolean;
}

/** `count` evenly spread starts of a `tile`-long window in `length`, first at 0 and last at the end. */
export function spread(length: number, tile: number, count: number): number[] {
  if (count <= 1 || length === tile) return [Math.round((length - tile) / 2)];
  const starts = Array.from({ length: count }, (_, i) => Math.round((i * (length - tile)) / (count - 1)));
  return [...new Set(starts)];
}

/**
 * How far past the image a tile turned 45° may reach, in pixels. Only its corner tips get there; the pixels
 * sampled near them lie ≥ 0.7 px further in (a pixel centre is half a pixel inside its tile), so they are
 * still inside the image. Without it, a middle tile of (L − 1/√2·L) odd pixels' margin, placed half a pixel
 * off centre, would lose its 45° turns at most sizes.
 */
export const DIAGONAL_SLACK = 0.5;

/**
 * The region a tile turned 45° about its centre covers (its half-diagonal around the centre, clipped to the
 * image), or null when the turned tile reaches more than DIAGONAL_SLACK past an edge.
 */
export function diagonalRegion(x: number, y: number, size: number, width: number, height: number): Rect | null {
  const reach = size * Math.SQRT1_2;
  const cx = x + size / 2;
  const cy = y + size / 2;
  if (cx - reach < -DIAGONAL_SLACK || cy - reach < -DIAGONAL_SLACK || cx + reach > width + DIAGONAL_SLACK || cy + reach > height + DIAGONAL_SLACK) return null;
  const left = Math.max(0, Math.floor(cx - reach));
  const top = Math.max(0, Math.floor(cy - reach));
  return { x: left, y: top, width: Math.min(width, Math.ceil(cx + reach)) - left, height: Math.min(height, Math.ceil(cy + reach)) - top };
}

/** Fractions round down, so 0.7071 × the short side turned 45° fits in the short side. */
export function tileSide(spec: ScaleSpec, width: number, height: number): number {
  return spec.size > 1 ? spec.size : Math.floor(spec.size * Math.min(width, height));
}

const pad3 = (n: number) => String(n).padStart(3, '0');

/** `STEM__s1448_r1c2_rot045.png`: the source, the tile size, its grid cell, the rotation (clockwise). */
export function outputName(stem: string, tile: Tile, rotation: Rotation): string {
  return `${stem}__s${tile.size}_r${tile.row}c${tile.col}_rot${pad3(rotation)}.png`;
}

export function planSource(stem: string, width: number, height: number, o: PlanOptions): SourcePlan {
  const tiles: Tile[] = [];
  const notes: string[] = [];
  const short = Math.min(width, height);
  const seen = new Set<number>();
  for (const spec of o.scales) {
    const size = tileSide(spec, width, height);
    const label = `scale ${spec.size}:${spec.grid} (${size} px)`;
    if (size > short) {
      notes.push(`${label} left out: larger than the ${width}×${height} image`);
      continue;
    }
    if (size < MIN_TILE) {
      notes.push(`${label} left out: tiles under ${MIN_TILE} px`);
      continue;
    }
    if (seen.has(size)) {
      notes.push(`${label} left out: another scale already cuts ${size} px tiles`);
      continue;
    }
    seen.add(size);
    // The spacing the grid count gives across the short side, kept across the long side.
    const shortStarts = spread(short, size, spec.grid);
    const step = shortStarts.length > 1 ? shortStarts[1]! - shortStarts[0]! : size;
    const long = Math.max(width, height);
    const longCount = long === short ? shortStarts.length : Math.ceil((long - size) / Math.max(1, step)) + 1;
    const longStarts = long === short ? shortStarts : spread(long, size, longCount);
    const xs = width <= height ? shortStarts : longStarts;
    const ys = width <= height ? longStarts : shortStarts;
    let interiorWithout = 0;
    ys.forEach((y, row) =>
      xs.forEach((x, col) => {
        const edge = x === 0 || y === 0 || x + size === width || y + size === height;
        const region = edge ? null : diagonalRegion(x, y, size, width, height);
        if (!edge && !region) interiorWithout++;
        tiles.push({ x, y, size, row, col, edge, diagonal: o.diagonal !== false ? region : null });
      }),
    );
    if (interiorWithout) notes.push(`${label}: ${interiorWithout} interior tile(s) without 45° rotations: turned 45° they would reach past the image edge`);
  }
  const outputs: PlannedOutput[] = [];
  for (const tile of tiles) {
    for (const rotation of o.turns === false ? [0 as const] : AXIS_ROTATIONS) outputs.push({ name: outputName(stem, tile, rotation), tile, rotation });
    if (tile.diagonal && o.turns !== false) for (const rotation of DIAGONAL_ROTATIONS) outputs.push({ name: outputName(stem, tile, rotation), tile, rotation });
  }
  return { width, height, tiles, outputs, notes };
}
