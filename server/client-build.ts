/**
 * Builds the pages' scripts (client/src → client/dist) with esbuild when the sources changed, so `npm start`
 * stays one command: the first start after a change pays ~0.5 s, the others a hash of the sources (~ms).
 * Every .ts file directly in client/src is an entry point; modules live in its subfolders.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { RhodopsError, messageOf } from '../core/errors.ts';
import { logger } from '../core/log.ts';

const log = logger('client');
const STAMP = '.source-hash';

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && /\.(ts|js|glsl|css)$/.test(e.name)) out.push(path.join(e.parentPath, e.name));
  }
  return out.sort();
}

async function hashSources(files: string[], root: string, salt: string): Promise<string> {
  const h = createHash('sha256').update(salt);
  for (const f of files) h.update(path.relative(root, f)).update('\0').update(await fs.readFile(f)).update('\0');
  return h.digest('hex');
}

/** Builds client/dist from client/src unless it is up to date; returns true when it built. */
export async function ensureClientBuilt(clientDir: string, o: { force?: boolean } = {}): Promise<boolean> {
  const src = path.join(clientDir, 'src');
  const dist = path.join(clientDir, 'dist');
  const files = await sourceFiles(src).catch(() => null);
  if (!files) return false; // a client folder without sources (prebuilt pages only): serve what is there
  const esbuild = await import('esbuild').catch((e: unknown) => {
    throw new RhodopsError('CLIENT_BUILD_FAILED', `esbuild is not installed (${messageOf(e)})`, { hint: 'run npm install' });
  });
  const hash = await hashSources(files, src, `esbuild ${esbuild.version}`);
  const built = await fs.readFile(path.join(dist, STAMP), 'utf8').catch(() => '');
  if (!o.force && built === hash) return false;
  const t0 = performance.now();
  const entries = files.filter((f) => path.dirname(f) === src && f.endsWith('.ts'));
  // Built beside the old bundles, then swapped in: a page loading meanwhile gets the old set or the new one.
  const tmp = `${dist}.tmp-${process.pid}`;
  await fs.rm(tmp, { recursive: true, force: true });
  try {
    await esbuild.build({
      entryPoints: entries,
      outdir: tmp,
      bundle: true,
      format: 'esm',
      target: ['chrome100', 'firefox100', 'safari15'],
      minify: true,
      sourcemap: true,
      logLevel: 'silent',
    });
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw new RhodopsError('CLIENT_BUILD_FAILED', `the pages' scripts did not build: ${messageOf(e)}`, { hint: 'a change under client/src has an error; npm test type-checks it' });
  }
  await fs.writeFile(path.join(tmp, STAMP), hash);
  const old = `${dist}.old-${process.pid}`;
  await fs.rename(dist, old).catch(() => undefined);
  await fs.rename(tmp, dist);
  await fs.rm(old, { recursive: true, force: true });
  log.info(`built the pages' scripts in ${(performance.now() - t0).toFixed(0)} ms`);
  return true;
}
