/** The real `rhodops` command as a user runs it, and the smallest dataset pack it will train on. */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { pack } from '../../trainer/prepare/pack.ts';

const BIN = path.resolve(import.meta.dirname, '..', '..', 'bin', 'rhodops.js');

export function rhodops(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Eight 8² images packed into `root`/pack (made once per `root`); returns the pack's folder. */
export async function tinyPack(root: string): Promise<string> {
  const images = path.join(root, 'images');
  const out = path.join(root, 'pack');
  await fs.mkdir(images, { recursive: true });
  for (let i = 0; i < 8; i++) {
    const px = Buffer.from(Array.from({ length: 8 * 8 * 3 }, (_, k) => (k * (i + 3) * 37) % 256));
    await sharp(px, { raw: { width: 8, height: 8, channels: 3 } }).png().toFile(path.join(images, `i${i}.png`));
  }
  await pack({ input: images, out, progress: false });
  return out;
}
