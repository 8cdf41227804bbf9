/**
 * Audio files the network may name: only files inside the server's audio folders (the current folder and
 * the folder of `--audio FILE` by default), so a control page can pick a song but cannot make the server
 * read, or mux into a downloadable take, any other file.
 */
import path from 'node:path';
import { RhodopsError } from '../core/errors.ts';
import type { AudioSpec } from './inputs.ts';
import type { AudioSourceRequest } from './protocol.ts';

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

export function resolveAudioRequest(r: AudioSourceRequest, dirs: readonly string[]): AudioSpec {
  switch (r.kind) {
    case 'none':
    case 'browser':
      return { kind: r.kind };
    case 'capture':
      return { kind: 'capture', spec: r.device };
    case 'file':
      return { kind: 'file', path: containedAudioFile(r.file, dirs), loop: r.loop };
  }
}
