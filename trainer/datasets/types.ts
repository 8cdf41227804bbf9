/** The prepared, in-memory form every dataset source turns into, and the options for loading one. */

export interface ImageDataset {
  count: number;
  size: number;
  channels: 1 | 3;
  /** count × size × size × channels, uint8, row-major HWC per image. */
  pixels: Uint8Array;
  /** count labels (class index ≥ 0), or undefined when the source has none (folders). */
  labels?: Int32Array;
  /** Human-readable origin, e.g. "mnist (10,000 test digits)" or "folder /data/wikiart (812 images, 3 skipped)". */
  source: string;
  /** Files left out because they could not be read, each as "relative/path: reason" (folders only). */
  skipped?: string[];
  /** True when this came from the prepared cache file instead of decoding the source. */
  fromCache?: boolean;
}

export interface LoadOptions {
  /** Side of the square images, in pixels (4..4096). */
  size: number;
  /** 1 (gray) or 3 (RGB); defaults to the source's own (MNIST, IDX: 1; SVHN, folders: 3). */
  channels?: 1 | 3;
  /** Where prepared datasets are cached; default $XDG_CACHE_HOME/rhodops/datasets or ~/.cache/rhodops/datasets. */
  cacheDir?: string;
  /** false: neither read nor write the cache (default true). */
  cache?: boolean;
  /** Called as images are decoded (done, total); once with (count, count) on a cache hit. */
  onProgress?: (done: number, total: number) => void;
}

export type Progress = (done: number, total: number) => void;

/** What a source decodes to, before it becomes an ImageDataset. */
export interface Decoded {
  count: number;
  pixels: Uint8Array;
  labels?: Int32Array;
  source: string;
  skipped?: string[];
}

/** A source that has been located and fingerprinted, not yet decoded. */
export interface PreparedSource {
  /** Changes whenever the source's content may have changed (file sizes and mtimes, package version). */
  fingerprint: string;
  /** The channels the source has: the default when LoadOptions.channels is not given. */
  naturalChannels: 1 | 3;
  decode(size: number, channels: 1 | 3, onProgress: Progress): Promise<Decoded>;
}
