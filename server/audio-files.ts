/**
 * Audio files the network may name: only files inside the server's audio folders (the current folder and
 * the folder of `--audio FILE` by default), so a control page can pick a song but cannot make the server
 * read, or mux into a downloadable take, any other file.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { RhodopsError } from '../core/errors.ts';
import type { AudioSpec } from './inputs.ts';
import type { AudioSourceRequest } from '../protocol/messages.ts';

export function containedAudioFile(name: string, dirs: readonly string[]): string {
  for (const dir of dirs) {
    const root = path.resolve(dir);
    const file = path.resolve(root, name);
    if (file.startsWith(root + path.sep)) return file;
  }
  throw new RhodopsError('AUDIO_FILE_INVALID', `'${name}' is not inside the audio folders (${dirs.join(', ')})`, {
    hint: 'name a file relative to one of them, or start the server with --audio-dir FOLDER',
  });
}

/**
 * What a page asked for, as the server will play it. A capture device must be one of `captures` (the devices the
 * server listed, and the one it was started with): ffmpeg reads a device spec as an input, and specs such as
 * `lavfi:amovie=FILE` or a URL would make it read or write files or fetch from the network.
 */
export function resolveAudioRequest(r: AudioSourceRequest, dirs: readonly string[], captures: ReadonlySet<string>): AudioSpec {
  switch (r.kind) {
    case 'none':
    case 'browser':
      return { kind: r.kind };
    case 'capture':
      if (!captures.has(r.device)) {
        throw new RhodopsError('AUDIO_DEVICE_UNKNOWN', `'${r.device.slice(0, 120)}' is not a capture device this server listed`, {
          hint: 'pick one from GET /api/audio/devices (as backend:id), or "" for the default input',
        });
      }
      return { kind: 'capture', spec: r.device };
    case 'file':
      return { kind: 'file', path: containedAudioFile(r.file, dirs), loop: r.loop };
  }
}

const AUDIO_EXTENSIONS = /\.(mp3|wav|flac|ogg|oga|opus|m4a|aac|aiff?|wma)$/i;

/**
 * The songs a control page can pick: audio files directly in each audio folder and one level below, by the
 * name `containedAudioFile` accepts (relative to the first folder that holds them). A missing folder lists nothing.
 */
export async function listAudioFiles(dirs: readonly string[], limit = 500): Promise<{ dirs: string[]; files: string[] }> {
  const files = new Set<string>();
  for (const dir of dirs) {
    const root = path.resolve(dir);
    const entries = await fs.readdir(root, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (e.isFile() && AUDIO_EXTENSIONS.test(e.name)) files.add(e.name);
      else if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules') {
        const inner = await fs.readdir(path.join(root, e.name), { withFileTypes: true }).catch(() => []);
        for (const f of inner) if (f.isFile() && AUDIO_EXTENSIONS.test(f.name)) files.add(`${e.name}/${f.name}`);
      }
      if (files.size >= limit) break;
    }
  }
  return { dirs: dirs.map((d) => path.resolve(d)), files: [...files].sort() };
}
