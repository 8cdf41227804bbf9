/**
 * Bytes that travel beside the queue: model files (by content hash) and finished segments. Two places, both
 * named only by hashes and integers: a shared folder (`--farm-dir`, NFS/SMB; no size limit) and Redis itself
 * (the side channel; capped, and each value expires so an abandoned render does not fill Redis). Whatever is
 * read back is checked against its SHA-256 before anything uses it.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { RhodopsError } from '../../core/errors.ts';
import { writeFileAtomic } from '../../core/fsutil.ts';
import { KEY_PREFIX, MAX_MODEL_FILE_BYTES, MAX_SEGMENT_BYTES, type SegmentResult } from './jobs.ts';

const BLOB_TTL_S = 7 * 24 * 3600;
const SEGMENT_TTL_S = 24 * 3600;

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

export class FarmStore {
  constructor(
    private readonly redis: Redis,
    /** The shared folder, or null: Redis only. */
    readonly dir: string | null,
  ) {}

  private blobKey = (sha: string) => `${KEY_PREFIX}:blob:${sha}`;
  private blobFile = (sha: string) => path.join(this.dir!, 'blobs', sha);
  private segmentKey = (plan: string, segment: number, sha: string) => `${KEY_PREFIX}:segment:${plan}:${segment}:${sha}`;
  private segmentFile = (plan: string, segment: number, sha: string) => path.join(this.dir!, 'segments', plan, `${segment}-${sha}.mkv`);

  /** Publishes a model file where workers look for it: the shared folder if any, and Redis if it fits. */
  async putBlob(sha: string, bytes: Uint8Array, what: string): Promise<void> {
    if (this.dir) {
      const file = this.blobFile(sha);
      if ((await fs.stat(file).catch(() => null))?.size !== bytes.byteLength) await writeFileAtomic(file, bytes);
    }
    if (bytes.byteLength <= MAX_MODEL_FILE_BYTES) {
      // Already there: refresh its expiry only (a studio renders the same model many times).
      if ((await this.redis.expire(this.blobKey(sha), BLOB_TTL_S)) === 0) await this.redis.set(this.blobKey(sha), Buffer.from(bytes), 'EX', BLOB_TTL_S);
    } else if (!this.dir) {
      throw new RhodopsError('BAD_OPTION', `${what} is ${(bytes.byteLength / 2 ** 20).toFixed(0)} MB, over the ${MAX_MODEL_FILE_BYTES / 2 ** 20} MB a model file may take through Redis`, { hint: 'give the coordinator and the workers a shared folder (--farm-dir)' });
    }
  }

  /** A model file by its hash: from the shared folder, else Redis; checked. */
  async getBlob(sha: string, size: number, what: string): Promise<Buffer> {
    if (this.dir) {
      const b = await fs.readFile(this.blobFile(sha)).catch(() => null);
      if (b && b.byteLength === size && sha256(b) === sha) return b;
    }
    const stored = await this.redis.strlen(this.blobKey(sha));
    if (stored === 0) {
      throw new RhodopsError('FARM_MODEL_MISSING', `${what} (${sha.slice(0, 12)}…) is neither in ${this.dir ? `${this.dir}/blobs` : 'a shared folder'} nor in Redis`, { hint: 'run the render command again: it publishes the model (or give this worker the coordinator\'s --farm-dir)' });
    }
    if (stored !== size) throw new RhodopsError('FARM_MODEL_MISSING', `${what} in Redis is ${stored} bytes, not ${size}`, { hint: 'run the render command again: it publishes the model again' });
    const b = await this.redis.getBuffer(this.blobKey(sha));
    if (!b || sha256(b) !== sha) throw new RhodopsError('FARM_MODEL_MISSING', `${what} in Redis does not match its hash ${sha.slice(0, 12)}…`, { hint: 'run the render command again: it publishes the model again' });
    return b;
  }

  /** Where a worker leaves a finished segment for the coordinator. */
  async putSegment(via: 'dir' | 'redis', plan: string, segment: number, sha: string, bytes: Uint8Array): Promise<void> {
    if (bytes.byteLength > MAX_SEGMENT_BYTES) {
      throw new RhodopsError('FARM_RESULT_REJECTED', `segment ${segment} is ${(bytes.byteLength / 2 ** 20).toFixed(0)} MB, over the ${MAX_SEGMENT_BYTES / 2 ** 20} MB cap`, { hint: 'render with shorter segments (--segment)' });
    }
    if (via === 'dir') {
      if (!this.dir) throw new RhodopsError('BAD_OPTION', `this render keeps its segments in a shared folder, and this worker has none`, { hint: 'start the worker with the same --farm-dir as the render (a folder both machines see)' });
      await writeFileAtomic(this.segmentFile(plan, segment, sha), bytes);
    } else {
      await this.redis.set(this.segmentKey(plan, segment, sha), Buffer.from(bytes), 'EX', SEGMENT_TTL_S);
    }
  }

  /** A worker's segment as it said it left it: the bytes, or FARM_RESULT_REJECTED when they are not what it said. */
  async takeSegment(r: SegmentResult): Promise<Buffer> {
    let bytes: Buffer | null;
    if (r.via === 'dir') {
      if (!this.dir) throw rejected(r, 'it is in a shared folder, and this render has none (--farm-dir)');
      bytes = await fs.readFile(this.segmentFile(r.plan, r.segment, r.sha256)).catch(() => null);
    } else {
      const key = this.segmentKey(r.plan, r.segment, r.sha256);
      const stored = await this.redis.strlen(key);
      if (stored > MAX_SEGMENT_BYTES) throw rejected(r, `${stored} bytes, over the cap`);
      bytes = stored === 0 ? null : await this.redis.getBuffer(key);
    }
    if (!bytes) throw rejected(r, 'its bytes are missing');
    if (bytes.byteLength !== r.bytes) throw rejected(r, `${bytes.byteLength} bytes, not the ${r.bytes} it reported`);
    if (sha256(bytes) !== r.sha256) throw rejected(r, 'its bytes do not match the SHA-256 it reported');
    return bytes;
  }

  /** Forgets a segment once the coordinator has its own copy (or rejected it). */
  async dropSegment(r: SegmentResult): Promise<void> {
    if (r.via === 'dir' && this.dir) await fs.rm(this.segmentFile(r.plan, r.segment, r.sha256), { force: true });
    else if (r.via === 'redis') await this.redis.del(this.segmentKey(r.plan, r.segment, r.sha256));
  }
}

function rejected(r: SegmentResult, why: string): RhodopsError {
  return new RhodopsError('FARM_RESULT_REJECTED', `segment ${r.segment} from worker ${r.worker} was rejected: ${why}`, { hint: 'it is rendered again; if this repeats, check that worker (its disk, its rhodops version)' });
}
