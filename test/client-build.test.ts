// The pages' bundles are built at server start from client/src: once per change of the sources, swapped in
// whole, and a source with an error fails with a clear message and leaves the last good bundles in place.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setLogLevel } from '../core/log.ts';
import { ensureClientBuilt } from '../server/client-build.ts';
import { tempRoot } from './helpers/server.ts';

describe('client build', () => {
  let root: string;
  before(async () => {
    setLogLevel('silent');
    root = await tempRoot('rhodops-client-build-');
    await fs.mkdir(path.join(root, 'src', 'lib'), { recursive: true });
    await fs.writeFile(path.join(root, 'src', 'lib', 'greet.ts'), "export const greet = (n: string): string => `hello ${n}`;\n");
    await fs.writeFile(path.join(root, 'src', 'page.ts'), "import { greet } from './lib/greet.ts';\ndocument.title = greet('page');\n");
  });
  after(() => fs.rm(root, { recursive: true, force: true }));

  it('bundles each top-level source with its modules, once per change of any source', async () => {
    assert.equal(await ensureClientBuilt(root), true, 'first start builds');
    const js = await fs.readFile(path.join(root, 'dist', 'page.js'), 'utf8');
    assert.match(js, /hello/, 'the module imported from lib/ is bundled in');
    await assert.rejects(fs.stat(path.join(root, 'dist', 'lib')), 'modules in subfolders are not entry points');
    assert.equal(await ensureClientBuilt(root), false, 'unchanged sources: no build');
    await fs.writeFile(path.join(root, 'src', 'lib', 'greet.ts'), "export const greet = (n: string): string => `bonjour ${n}`;\n");
    assert.equal(await ensureClientBuilt(root), true, 'a changed module rebuilds');
    assert.match(await fs.readFile(path.join(root, 'dist', 'page.js'), 'utf8'), /bonjour/);
    const leftovers = (await fs.readdir(root)).filter((f) => f.startsWith('dist.'));
    assert.deepEqual(leftovers, [], 'no temporary folders left behind');
  });

  it('a source with an error: CLIENT_BUILD_FAILED naming the file, and the last good bundles stay', async () => {
    await fs.writeFile(path.join(root, 'src', 'lib', 'greet.ts'), 'export const greet = (n: string) => `oops ${n};\n');
    await assert.rejects(ensureClientBuilt(root), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'CLIENT_BUILD_FAILED');
      assert.match(e.message, /greet\.ts/, `the message names the file: ${e.message}`);
      return true;
    });
    assert.match(await fs.readFile(path.join(root, 'dist', 'page.js'), 'utf8'), /bonjour/, 'the previous bundle is still served');
  });

  it('a client folder without sources (prebuilt pages) is served as it is', async () => {
    const bare = path.join(root, 'bare');
    await fs.mkdir(bare);
    assert.equal(await ensureClientBuilt(bare), false);
  });
});
