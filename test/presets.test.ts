/**
 * The preset store on a real temporary directory: round trips, bad files, hostile names, layout checks,
 * and a writer SIGKILLed mid-save in a child process.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs, watch } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { latentSpecSchema, type LatentSpec } from '../core/checkpoint/manifest.ts';
import { isRhodopsError } from '../core/errors.ts';
import { rng } from '../core/random.ts';
import { checkCompatible } from '../presets/layout.ts';
import { presetFileStem } from '../presets/names.ts';
import { PresetStore, type PresetDraft } from '../presets/store.ts';
import { rejectsWith } from './helpers/assert.ts';

const INFOGAN: LatentSpec = latentSpecSchema.parse({ size: 74, noise: 62, categorical: [10], continuous: 2 });
const PGGAN: LatentSpec = latentSpecSchema.parse({ size: 512, noise: 512 });

function oneHot(n: number, k: number): number[] {
  return Array.from({ length: n }, (_, i) => (i === k ? 1 : 0));
}

/** An InfoGAN preset draft whose noise is filled with `value`, so versions are easy to tell apart. */
function infoganDraft(name: string, extra: Partial<PresetDraft> = {}, value = 0.5): PresetDraft {
  return {
    name,
    model: { id: 'mnist-infogan', kind: 'infogan', latent: INFOGAN },
    state: { noise: new Array(62).fill(value), categorical: [oneHot(10, 3)], continuous: [0.25, -1] },
    smoothing: { timeConstant: 0.2, beta: 0.01 },
    ...extra,
  };
}

/** A clock that advances one second per reading, so updatedAt visibly moves. */
function tickingClock(start = Date.parse('2025-01-01T00:00:00Z')): () => Date {
  let t = start;
  return () => new Date((t += 1000));
}

async function tempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `rhodops-${prefix}-`));
}

/** Every file (not directory) under `root`, as absolute paths. */
async function walk(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(root, { withFileTypes: true })) {
    const p = path.join(root, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out.sort();
}

function throwsCode(fn: () => unknown, code: 'PRESET_BAD_NAME' | 'PRESET_INCOMPATIBLE', ...mentions: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isRhodopsError(e, code), `expected ${code}, got ${String(e)}`);
    for (const m of mentions) assert.ok(e.message.includes(m), `message "${e.message}" does not mention "${m}"`);
    assert.ok(e.hint && e.hint.length > 10);
    return true;
  });
}

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
});
async function newStore(prefix: string): Promise<PresetStore> {
  const dir = await tempDir(prefix);
  dirs.push(dir);
  return new PresetStore({ dir, now: tickingClock() });
}

describe('PresetStore round trips', () => {
  test('save, load and list; a second save keeps createdAt and moves updatedAt', async () => {
    const store = await newStore('rt');
    const saved = await store.save(infoganDraft('  Acid Bloom  ', { mapping: 'mappings/apc40.json', notes: 'drop' }));
    assert.equal(saved.name, 'Acid Bloom', 'the display name is trimmed');
    assert.equal(saved.bank, 'default');
    assert.equal(saved.version, 1);
    assert.deepEqual(await store.load('default', 'Acid Bloom'), saved);
    assert.ok((await fs.readdir(path.join(store.dir, 'default'))).includes('acid-bloom.json'));

    const again = await store.save(infoganDraft('Acid Bloom', {}, -0.25));
    assert.equal(again.createdAt, saved.createdAt);
    assert.ok(again.updatedAt > saved.updatedAt);
    const loaded = await store.load('default', 'Acid Bloom');
    assert.equal(loaded.state.noise[0], -0.25);
    assert.equal(loaded.mapping, undefined, 'a save replaces the whole preset');

    const { presets, problems } = await store.list();
    assert.deepEqual(problems, []);
    assert.deepEqual(presets, [
      { name: 'Acid Bloom', bank: 'default', file: 'default/acid-bloom.json', modelId: 'mnist-infogan', modelKind: 'infogan', createdAt: saved.createdAt, updatedAt: again.updatedAt },
    ]);
    await rejectsWith(store.save(infoganDraft('Acid Bloom'), { overwrite: false }), 'PRESET_EXISTS', 'Acid Bloom');
  });

  test('list is sorted by bank then name, numbers in numeric order; list(bank) filters', async () => {
    const store = await newStore('sort');
    for (const [name, bank] of [['Drop 10', 'default'], ['drop 2', 'default'], ['Intro', 'b-side'], ['Ambient', 'default']] as const) {
      await store.save(infoganDraft(name, { bank }));
    }
    const all = await store.list();
    assert.deepEqual(all.presets.map((p) => `${p.bank}/${p.name}`), ['b-side/Intro', 'default/Ambient', 'default/drop 2', 'default/Drop 10']);
    assert.deepEqual((await store.list('b-side')).presets.map((p) => p.name), ['Intro']);
    assert.deepEqual((await store.list('empty-bank')).presets, []);
    assert.deepEqual(await store.banks(), ['b-side', 'default']);
  });

  test('rename: the old name is gone, the new one loads; onto a taken name is PRESET_EXISTS; a case change works', async () => {
    const store = await newStore('rename');
    const a = await store.save(infoganDraft('Alpha'));
    await store.save(infoganDraft('Beta', {}, 0.9));
    const renamed = await store.rename('default', 'Alpha', 'Gamma');
    assert.equal(renamed.name, 'Gamma');
    assert.equal(renamed.createdAt, a.createdAt);
    assert.deepEqual(renamed.state, a.state);
    assert.deepEqual(await store.load('default', 'Gamma'), renamed);
    await rejectsWith(store.load('default', 'Alpha'), 'PRESET_NOT_FOUND', 'Alpha', 'default');

    await rejectsWith(store.rename('default', 'Gamma', 'beta'), 'PRESET_EXISTS', 'Beta');
    assert.equal((await store.load('default', 'Beta')).state.noise[0], 0.9, 'the taken preset is untouched');
    assert.equal((await store.load('default', 'Gamma')).name, 'Gamma');

    await store.rename('default', 'Gamma', 'GAMMA');
    assert.equal((await store.load('default', 'GAMMA')).name, 'GAMMA');
    assert.deepEqual((await store.list()).presets.map((p) => p.name), ['Beta', 'GAMMA']);
    await rejectsWith(store.rename('default', 'Nope', 'Other'), 'PRESET_NOT_FOUND', 'Nope');
  });

  test('move to another bank, banks(), remove', async () => {
    const store = await newStore('move');
    await store.save(infoganDraft('Warm'));
    await store.save(infoganDraft('Cold'));
    await store.save(infoganDraft('Cold', { bank: 'set-2' }));
    const moved = await store.move('default', 'Warm', 'set-2');
    assert.equal(moved.bank, 'set-2');
    assert.deepEqual(await store.load('set-2', 'Warm'), moved);
    await rejectsWith(store.load('default', 'Warm'), 'PRESET_NOT_FOUND');
    await rejectsWith(store.move('default', 'Cold', 'set-2'), 'PRESET_EXISTS', 'set-2', 'Cold');
    assert.deepEqual(await store.banks(), ['default', 'set-2']);

    await store.remove('set-2', 'Warm');
    await rejectsWith(store.load('set-2', 'Warm'), 'PRESET_NOT_FOUND');
    await rejectsWith(store.remove('set-2', 'Warm'), 'PRESET_NOT_FOUND', 'Warm');
    await rejectsWith(store.remove('no-such-bank', 'Warm'), 'PRESET_NOT_FOUND', 'no-such-bank');
    assert.deepEqual((await store.list()).presets.map((p) => `${p.bank}/${p.name}`), ['default/Cold', 'set-2/Cold']);
  });

  test('names that share a file are refused; exact names are needed; odd names get safe files', async () => {
    const store = await newStore('slug');
    await store.save(infoganDraft('Foo Bar'));
    await rejectsWith(store.save(infoganDraft('foo-bar')), 'PRESET_EXISTS', "'Foo Bar'", 'foo-bar.json');
    await rejectsWith(store.load('default', 'FOO BAR'), 'PRESET_NOT_FOUND', "holds 'Foo Bar'");
    await rejectsWith(store.remove('default', 'foo bar'), 'PRESET_NOT_FOUND');
    assert.equal((await store.load('default', 'Foo Bar')).name, 'Foo Bar');

    for (const [name, file] of [
      ['CON', 'con_.json'],
      ['nul', 'nul_.json'],
      ['Lpt1', 'lpt1_.json'],
      ['Nébuleuse №5', 'nébuleuse-no5.json'],
      ['夜の海', '夜の海.json'],
      ['..hidden..', 'hidden.json'],
    ] as const) {
      const p = await store.save(infoganDraft(name));
      assert.equal(path.basename(store.fileFor('default', name)), file.normalize('NFC'));
      assert.deepEqual(await store.load('default', name), p);
    }
    const fire = await store.save(infoganDraft('🔥🔥'));
    assert.match(path.basename(store.fileFor('default', '🔥🔥')), /^preset-[0-9a-f]{8}\.json$/);
    assert.deepEqual(await store.load('default', '🔥🔥'), fire);
    const long = 'Very long name '.repeat(6).trim();
    const longStem = presetFileStem(long);
    assert.ok(Buffer.byteLength(longStem) <= 80 && longStem !== presetFileStem(long + 'x'), longStem);
    await store.save(infoganDraft(long));
    const { presets, problems } = await store.list();
    assert.deepEqual(problems, []);
    assert.equal(presets.length, 9);
  });

  test('a draft with a bad state is refused before anything is written', async () => {
    const store = await newStore('draft');
    const bad = infoganDraft('Bad');
    await rejectsWith(store.save({ ...bad, state: { ...bad.state, noise: [1, 2, 3] } }), 'PRESET_INVALID', 'state.noise', '62');
    await rejectsWith(store.save({ ...bad, state: { ...bad.state, categorical: [[0.5, 0.2, 0, 0, 0, 0, 0, 0, 0, 0]] } }), 'PRESET_INVALID', 'state.categorical.0', 'sum');
    await rejectsWith(store.save({ ...bad, state: { ...bad.state, categorical: [[1.5, -0.5, 0, 0, 0, 0, 0, 0, 0, 0]] } }), 'PRESET_INVALID', 'state.categorical.0.1', '≥ 0');
    await rejectsWith(store.save({ ...bad, model: { ...bad.model, latent: { ...INFOGAN, size: 80 } } }), 'PRESET_INVALID', 'model.latent.size');
    await rejectsWith(store.save({ ...bad, smoothing: { timeConstant: -1 } }), 'PRESET_INVALID', 'smoothing.timeConstant');
    await rejectsWith(store.save({ ...bad, bank: 'Live Set' }), 'PRESET_BAD_NAME', 'Live Set', 'lowercase');
    assert.deepEqual(await walk(store.dir), []);
  });
});

describe('malformed preset files', () => {
  let store: PresetStore;
  let bank: string;
  before(async () => {
    store = await newStore('bad');
    await store.save(infoganDraft('Good'));
    bank = path.join(store.dir, 'default');
    const good = await fs.readFile(path.join(bank, 'good.json'), 'utf8');
    await fs.writeFile(path.join(bank, 'truncated.json'), good.slice(0, good.length / 2));
    const wrong = JSON.parse(good);
    wrong.name = 'Wrong';
    wrong.state.categorical[0][4] = 0.5;
    await fs.writeFile(path.join(bank, 'wrong.json'), JSON.stringify(wrong));
    const typo = JSON.parse(good);
    typo.name = 'Typo';
    typo.state.noise[3] = 'x';
    await fs.writeFile(path.join(bank, 'typo.json'), JSON.stringify(typo));
    await fs.writeFile(path.join(bank, 'future.json'), JSON.stringify({ ...JSON.parse(good), name: 'Future', version: 2 }));
    await fs.writeFile(path.join(bank, 'copied-by-hand.json'), good);
    await fs.writeFile(path.join(bank, 'README.txt'), 'not a preset');
    await fs.mkdir(path.join(store.dir, 'Bad Bank'));
  });

  test('load names the file and the field', async () => {
    await rejectsWith(store.load('default', 'Truncated'), 'PRESET_INVALID', path.join(bank, 'truncated.json'), 'not valid JSON');
    await rejectsWith(store.load('default', 'Wrong'), 'PRESET_INVALID', path.join(bank, 'wrong.json'), 'state.categorical.0', 'sum to 1.5');
    await rejectsWith(store.load('default', 'Typo'), 'PRESET_INVALID', path.join(bank, 'typo.json'), 'state.noise.3');
    await rejectsWith(store.load('default', 'Future'), 'PRESET_INVALID', 'version 2');
  });

  test('list skips and reports them, and still lists the good one', async () => {
    const { presets, problems } = await store.list();
    assert.deepEqual(presets.map((p) => p.name), ['Good']);
    assert.deepEqual(problems.map((p) => [p.file, p.code]), [
      ['Bad Bank/', 'PRESET_BAD_NAME'],
      ['default/copied-by-hand.json', 'PRESET_INVALID'],
      ['default/future.json', 'PRESET_INVALID'],
      ['default/truncated.json', 'PRESET_INVALID'],
      ['default/typo.json', 'PRESET_INVALID'],
      ['default/wrong.json', 'PRESET_INVALID'],
    ]);
    assert.match(problems.find((p) => p.file === 'default/typo.json')!.message, /state\.noise\.3/);
    assert.match(problems.find((p) => p.file === 'default/copied-by-hand.json')!.message, /good\.json/);
    assert.match(problems[0]!.message, /bad-bank/);
  });

  test('a bad file blocks a save onto it until removed; remove clears even an unparseable file', async () => {
    await rejectsWith(store.save(infoganDraft('truncated')), 'PRESET_EXISTS', 'truncated.json', 'cannot be read');
    await store.save(infoganDraft('Wrong'));
    assert.equal((await store.load('default', 'Wrong')).name, 'Wrong', 'a bad file that names itself is overwritten');
    await store.remove('default', 'Truncated');
    await store.save(infoganDraft('Truncated'));
    assert.equal((await store.load('default', 'Truncated')).name, 'Truncated');
  });
});

describe('names cannot reach outside the store', () => {
  const hostileNames = ['../x', '../../etc/passwd', '/etc/passwd', 'a/b', 'a\\b', '..\\..\\x', '..', '.', '...', 'a\0b', 'tab\there', 'line\nbreak', '\u0007', '', '   ', 'x'.repeat(101)];
  const hostileBanks = ['..', '../x', '/tmp', 'a/b', 'a\\b', '.', '', 'A', 'Live Set', 'con', 'x\0', '-x', 'x'.repeat(65)];

  test('hostile preset and bank names are PRESET_BAD_NAME in every operation; no file lands outside', async () => {
    const sandbox = await tempDir('sandbox');
    dirs.push(sandbox);
    const store = new PresetStore({ dir: path.join(sandbox, 'store') });
    await store.save(infoganDraft('Legit'));
    for (const name of hostileNames) {
      await rejectsWith(store.save(infoganDraft(name)), 'PRESET_BAD_NAME');
      await rejectsWith(store.load('default', name), 'PRESET_BAD_NAME');
      await rejectsWith(store.rename('default', 'Legit', name), 'PRESET_BAD_NAME');
      await rejectsWith(store.rename('default', name, 'Other'), 'PRESET_BAD_NAME');
      await rejectsWith(store.move('default', name, 'other'), 'PRESET_BAD_NAME');
      await rejectsWith(store.remove('default', name), 'PRESET_BAD_NAME');
      throwsCode(() => store.fileFor('default', name), 'PRESET_BAD_NAME');
    }
    for (const bank of hostileBanks) {
      await rejectsWith(store.save(infoganDraft('Legit', { bank })), 'PRESET_BAD_NAME');
      await rejectsWith(store.load(bank, 'Legit'), 'PRESET_BAD_NAME');
      await rejectsWith(store.move('default', 'Legit', bank), 'PRESET_BAD_NAME');
      await rejectsWith(store.list(bank), 'PRESET_BAD_NAME');
      await rejectsWith(store.remove(bank, 'Legit'), 'PRESET_BAD_NAME');
    }
    await rejectsWith(store.save(infoganDraft('x', { bank: 'Live Set' })), 'PRESET_BAD_NAME', "'live-set'");
    assert.deepEqual(await walk(sandbox), [path.join(sandbox, 'store', 'default', 'legit.json')]);
  });

  test('fuzz: any name either is refused or maps to a file directly inside its bank folder', () => {
    const store = new PresetStore({ dir: '/srv/presets' });
    const alphabet = ['.', '/', '\\', '\0', '\n', ' ', '-', 'a', 'Z', '9', 'é', 'ﬁ', '∕', '．', '／', '＼', '%2e', '%2f', 'CON', ':', '*', '?', '"', '<', '|'];
    const r = rng(4);
    let accepted = 0;
    for (let i = 0; i < 3000; i++) {
      const name = Array.from({ length: 1 + Math.floor(r() * 8) }, () => alphabet[Math.floor(r() * alphabet.length)]!).join('');
      let file: string;
      try {
        file = store.fileFor('default', name);
      } catch (e) {
        assert.ok(isRhodopsError(e, 'PRESET_BAD_NAME'), String(e));
        continue;
      }
      accepted++;
      assert.equal(path.dirname(file), '/srv/presets/default', `${JSON.stringify(name)} → ${file}`);
      const base = path.basename(file);
      assert.match(base, /^[\p{L}\p{M}\p{N}_-]+\.json$/u, `${JSON.stringify(name)} → ${base}`);
      assert.ok(!/^(con|prn|aux|nul|com\d|lpt\d)\./i.test(base), base);
    }
    assert.ok(accepted > 500, `${accepted} names accepted`);
  });

  test('options: the default folder is presets/user in the repository; bad caps are BAD_OPTION', () => {
    assert.equal(new PresetStore({ dir: undefined }).dir, path.resolve(import.meta.dirname, '../presets/user'));
    assert.throws(() => new PresetStore({ maxFileBytes: 0 }), (e: unknown) => isRhodopsError(e, 'BAD_OPTION') && /maxFileBytes/.test(e.message));
  });

  test('a bank folder that is a link to elsewhere is refused', async () => {
    const sandbox = await tempDir('link');
    dirs.push(sandbox);
    await fs.mkdir(path.join(sandbox, 'store'));
    await fs.mkdir(path.join(sandbox, 'outside'));
    await fs.symlink(path.join(sandbox, 'outside'), path.join(sandbox, 'store', 'evil'));
    const store = new PresetStore({ dir: path.join(sandbox, 'store') });
    await rejectsWith(store.save(infoganDraft('X', { bank: 'evil' })), 'PRESET_BAD_NAME', 'evil', 'outside');
    await rejectsWith(store.load('evil', 'X'), 'PRESET_BAD_NAME');
    assert.deepEqual(await fs.readdir(path.join(sandbox, 'outside')), []);
    assert.deepEqual((await store.list()).problems.map((p) => p.file), ['evil/']);
  });
});

describe('checkCompatible', () => {
  const preset = {
    name: 'Digits',
    model: { id: 'mnist-infogan', latent: INFOGAN },
    state: { noise: new Array(62).fill(0), categorical: [oneHot(10, 1)], continuous: [0, 0] },
  };

  test('another layout is a clear error that says what differs', () => {
    throwsCode(
      () => checkCompatible(preset, PGGAN, 'pggan-128'),
      'PRESET_INCOMPATIBLE',
      'is for a latent of 62 noise + categorical [10] + 2 continuous',
      "the current model ('pggan-128') takes 512 noise",
      "the noise has 62 values, the current model's has 512",
      "the preset's latent has 1 categorical code, the current model's latent has 0",
    );
    const twoCodes = latentSpecSchema.parse({ size: 77, noise: 62, categorical: [10, 3], continuous: 2 });
    throwsCode(() => checkCompatible(preset, twoCodes), 'PRESET_INCOMPATIBLE', "the preset's latent has 1 categorical code, the current model's latent has 2", 'the current model takes');
  });

  test('the same layout from another model plays, with a warning flag; the same model has no warning', () => {
    const other = checkCompatible(preset, latentSpecSchema.parse({ ...INFOGAN }), 'svhn-infogan');
    assert.equal(other.otherModel, true);
    assert.equal(other.warnings.length, 1);
    assert.match(other.warnings[0]!, /mnist-infogan.*svhn-infogan/);
    assert.deepEqual(checkCompatible(preset, INFOGAN, 'mnist-infogan'), { otherModel: false, warnings: [] });
    assert.equal(checkCompatible(preset, { ...INFOGAN, distribution: 'uniform' }, 'mnist-infogan').warnings.length, 1);
  });

  test('a loaded preset goes through checkCompatible directly', async () => {
    const store = await newStore('compat');
    const p = await store.save(infoganDraft('Loaded'));
    assert.equal(checkCompatible(await store.load('default', 'Loaded'), INFOGAN, 'mnist-infogan').otherModel, false);
    assert.equal(p.model.latent.distribution, 'normal');
  });
});

describe('crash safety', () => {
  /** A pure-noise latent big enough (a few MB of JSON) that a kill often lands inside the write. */
  const N = 200_000;
  const bigDraft = (k: number): PresetDraft => ({
    name: 'Big',
    model: { id: 'big', kind: 'pggan', latent: { size: N, noise: N } },
    state: { noise: Array.from({ length: N }, (_, i) => k + i / N), categorical: [], continuous: [] },
    notes: `v${k}`,
  });

  test('SIGKILL at random moments during repeated saves leaves the old or the new file, and no garbage in list', { timeout: 120_000 }, async (t) => {
    const dir = await tempDir('crash');
    dirs.push(dir);
    const store = new PresetStore({ dir });
    const t0 = performance.now();
    await store.save(bigDraft(0));
    const saveMs = performance.now() - t0;
    const bank = path.join(dir, 'default');
    const storeUrl = new URL('../presets/store.ts', import.meta.url).href;
    const child = `
      const { PresetStore } = await import(${JSON.stringify(storeUrl)});
      const store = new PresetStore({ dir: ${JSON.stringify(dir)} });
      const N = ${N};
      for (let k = 1; ; k++) {
        process.stdout.write('saving ' + k + '\\n');
        await store.save({
          name: 'Big',
          model: { id: 'big', kind: 'pggan', latent: { size: N, noise: N } },
          state: { noise: Array.from({ length: N }, (_, i) => k + i / N), categorical: [], continuous: [] },
          notes: 'v' + k,
        });
        process.stdout.write('saved ' + k + '\\n');
      }`;
    const r = rng(7);
    let killedMidWrite = 0;
    let before = 0;
    const KILLS = 6;
    for (let round = 0; round < KILLS; round++) {
      const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', child], { stdio: ['ignore', 'pipe', 'inherit'] });
      // 'close' comes after the child's stdout is drained, so `saved` and `saving` are final by then.
      const closed = new Promise<NodeJS.Signals | null>((resolve) => proc.on('close', (_code, signal) => resolve(signal)));
      let saved = 0;
      let saving = 0;
      const target = 1 + Math.floor(r() * 3);
      // Even rounds kill within ~3 ms of the save's first touch of the folder (for writeFileAtomic, the
      // temporary file appearing: inside the write); odd rounds at any moment of a save (mostly while it
      // builds the JSON, before the write begins).
      const onFirstWrite = round % 2 === 0;
      const delay = onFirstWrite ? r() * 3 : r() * saveMs * 1.5;
      let armed = false;
      const watcher = watch(bank, () => {
        if (armed) {
          armed = false;
          setTimeout(() => proc.kill('SIGKILL'), delay);
        }
      });
      let buf = '';
      proc.stdout.on('data', (chunk: Buffer) => {
        buf += chunk.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const [what, k] = buf.slice(0, nl).split(' ');
          buf = buf.slice(nl + 1);
          if (what === 'saved') saved = Number(k);
          if (what !== 'saving') continue;
          saving = Number(k);
          if (saving !== target) continue;
          if (onFirstWrite) armed = true;
          // In first-write rounds, a fallback in case the folder never changes.
          setTimeout(() => proc.kill('SIGKILL'), onFirstWrite ? 2000 + 3 * saveMs : delay);
        }
      });
      try {
        assert.equal(await closed, 'SIGKILL', 'the child was killed, not crashed');
      } finally {
        watcher.close();
        proc.kill('SIGKILL');
      }

      const leftovers = (await fs.readdir(bank)).filter((f) => f !== 'big.json');
      const full = (await fs.stat(path.join(bank, 'big.json'))).size;
      const partial = await Promise.all(leftovers.map(async (f) => `${(await fs.stat(path.join(bank, f))).size} of ~${full} bytes`));
      if (leftovers.length > 0) killedMidWrite++;
      const p = await store.load('default', 'Big');
      const k = Number(p.notes!.slice(1));
      const old = saved > 0 ? saved : before;
      t.diagnostic(`round ${round}: killed ${onFirstWrite ? 'as the write began' : 'at a random moment'} while saving v${saving}; the file holds v${k}; temporary files left: ${partial.join(', ') || 'none'}`);
      assert.ok(k === old || k === saving, `round ${round}: the file holds v${k}; the old version was v${old}, the one being written v${saving}`);
      assert.equal(p.state.noise.length, N);
      assert.equal(p.state.noise[0], k);
      assert.equal(p.state.noise[N - 1], k + (N - 1) / N, 'the whole array is from one version');
      before = k;

      const listed = await store.list();
      assert.deepEqual(listed.problems, []);
      assert.deepEqual(listed.presets.map((x) => x.name), ['Big']);
      assert.deepEqual(listed.sweptTempFiles.sort(), leftovers.map((f) => `default/${f}`).sort());
      assert.deepEqual(await fs.readdir(bank), ['big.json'], 'temporary files of dead writers are swept');
    }
    t.diagnostic(`${KILLS} kills, ${killedMidWrite} left a half-written temporary file behind; one save takes ~${saveMs.toFixed(0)} ms`);
    assert.ok(killedMidWrite >= 1, 'at least one kill landed inside a write');
  });
});
