/**
 * Audio features for the live server and the offline renderer: the pure extractor (features.ts and the
 * modules it uses) and the sources that feed it (capture, file, browser), which own the I/O.
 */
export { FeatureExtractor, extractFeatures, NORMALIZED_FEATURES, type FeatureFrame, type NormalizedFeature } from './features.ts';
export { defaultFeatureOptions, resolveFeatureOptions, type Band, type FeatureOptions, type FeatureOptionsInput, type Hertz, type Seconds } from './options.ts';
export { FeatureTimeline, mergeFrames } from './frames.ts';
export { BaseAudioSource, type AudioSource, type AudioSourceEvents, type AudioSourceKind, type AudioSourceStatus, type SourceBaseOptions } from './source.ts';
export { CAPTURE_BACKENDS, CaptureAudioSource, captureInputArgs, parseCaptureSpec, type CaptureBackend, type CaptureOptions } from './capture.ts';
export { decodeAudioFile, FileAudioSource, probeDuration, type FileSourceOptions } from './file.ts';
export { BROWSER_RATE_MAX, BROWSER_RATE_MIN, BrowserPcmSource, PCM_FORMATS, type BrowserSourceOptions, type PcmFormat } from './browser.ts';
export { deviceSpec, listAudioDevices, type AudioDevice, type AudioDeviceList, type DeviceBackend } from './devices.ts';
export { LinearResampler } from './pcm.ts';
export { audioCommand } from './cli.ts';
