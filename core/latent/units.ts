/**
 * Named units (as Tone.js): plain numbers, named so a signature says what it expects. Every function in
 * core/latent takes times and durations explicitly; nothing here reads a clock.
 */

/** A time or a duration in seconds. */
export type Seconds = number;
/** An angle in radians. */
export type Radians = number;
/** An angular speed: radians per second. */
export type RadiansPerSecond = number;
/** A frequency in hertz. */
export type Hertz = number;
/** A number from 0 to 1 (an interpolation parameter, a mix, the truncation ψ). */
export type NormalRange = number;
