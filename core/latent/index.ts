/**
 * The latent state and everything that moves it: pure, deterministic functions of explicit times (seconds);
 * no clocks, no I/O. The server's tick composes them: target (preset transition, drift, loop, knobs) →
 * smoothState → toVector → engine.
 */
export type { Hertz, NormalRange, Radians, RadiansPerSecond, Seconds } from './units.ts';
export {
  checkSameLayout,
  checkState,
  cloneState,
  describeLayout,
  fromVector,
  latentStateJsonSchema,
  layoutMismatches,
  layoutOf,
  oneHot,
  randomState,
  stateFromJson,
  stateToJson,
  toVector,
  WEIGHT_SUM_TOLERANCE,
  type LatentLayout,
  type LatentState,
  type LatentStateJson,
} from './state.ts';
export { crossfadeCategory, normalizeNoise, nudge, setCategory, setContinuous, slerp, truncate } from './ops.ts';
export { angleBetween, dot, lerpVectors, norm, slerpVectors } from './vector.ts';
export { EASING_NAMES, EASINGS, easing, isEasingName, type EasingName } from './easing.ts';
export {
  MAX_TRANSITION,
  transition,
  transitionAt,
  transitionDone,
  transitionProgress,
  TRANSITION_DEFAULTS,
  type Transition,
  type TransitionOptions,
} from './transition.ts';
export { DRIFT_DEFAULTS, driftAt, MAX_DRIFT_SPEED, type DriftOptions } from './drift.ts';
export {
  KEYFRAME_LOOP_DEFAULTS,
  keyframeLoop,
  loopAt,
  MAX_KEYFRAMES,
  MAX_LOOP_PERIOD,
  type KeyframeLoop,
  type KeyframeLoopOptions,
  type LoopInterpolation,
} from './keyframes.ts';
export { randomDirections } from './directions.ts';
export {
  checkLatentSmoothingOptions,
  CriticallyDampedSpring,
  CriticallyDampedSpringArray,
  LATENT_SMOOTHING_DEFAULTS,
  latentSprings,
  lowPassAlpha,
  lowPassRampStep,
  MAX_CUTOFF,
  MAX_STEP,
  MAX_TIME_CONSTANT,
  ONE_EURO_DEFAULTS,
  OneEuroFilter,
  OneEuroFilterArray,
  resetSprings,
  settlingTime,
  smoothState,
  SPRING_DEFAULTS,
  springStep,
  timeConstantForSettling,
  type LatentSmoothingOptions,
  type LatentSprings,
  type OneEuroOptions,
  type SpringOptions,
  type SpringState,
} from './smoothing.ts';
