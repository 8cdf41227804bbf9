/**
 * Presets on disk: `<dir>/<bank>/<stem>.json`, one directory per bank, one file per preset. Every write
 * is atomic (temporary file, fsync, rename), so a crash leaves the old file or the new, never a mix.
 * Names are checked before any file is touched, and every path is checked to stay inside `dir`.
 *
 * One store serializes its own changes; two processes changing the same directory at once are not
 * coordinated (the last write wins, and a rename may then find its target taken late).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RhodopsError, isRhodopsError, messageOf, type ErrorCode } from '../core/errors.ts';
import { syncDir, writeFileAtomic } from '../core/fsutil.ts';
import { logger } from '../core/log.ts';
import { bankNameProblem, normalizeName, PRESET_EXT, presetFileStem, presetNameProblem, suggestBankName } from './names.ts';
import { DEFAULT_BANK, formatPreset, parsePreset, parsePresetText, PRESET_VERSION, type Preset, type PresetInput } from './schema.ts';

const log = logger('presets');

/** presets/user/ in the repository, whatever the working directory. */
export const DEFAULT_PRESET_DIR = fileURLToPath(new URL('./user/', import.meta.url));

export interface PresetStoreOptions {
  /** The store's root; banks are its subdirectories. */
  dir?: string;
  /** The clock for createdAt / updatedAt. */
  now?: () => Date;
  /** Preset files larger than this are reported as invalid rather than read. */
  maxFileBytes?: number;
  /** Temporary files older than this are garbage even if their writer's pid is alive again (reused). */
  staleTempMs?: number;
}

const DEFAULTS: Required<PresetStoreOptions> = {
  dir: DEFAULT_PRESET_DIR,
  now: () => new Date(),
  maxFileBytes: 16 * 1024 * 1024,
  staleTempMs: 60 * 60 * 1000,
};

/** What `save` takes: a preset without the fields the store fills in (they may be given; `updatedAt` is replaced). */
export type PresetDraft = Omit<PresetInput, 'version' | 'createdAt' | 'updatedAt'> &
  Partial<Pick<PresetInput, 'version' | 'createdAt' | 'updatedAt'>>;

export interface PresetSummary {
  name: string;
  bank: string;
  /** Path relative to the store's root: "default/acid-bloom.json". */
  file: string;
  modelId: string;
  modelKind: Preset['model']['kind'];
  createdAt: string;
  updatedAt: string;
}

/** A file or folder `list` skipped, with why. */
export interface PresetProblem {
  /** Path relative to the store's root. */
  file: string;
  code: ErrorCode;
  message: string;
}

export interface PresetList {
  /** Sorted by bank, then name (numbers in names in numeric order: "Drop 2" before "Drop 10"). */
  presets: PresetSummary[];
  problems: PresetProblem[];
  /** Temporary files left by writers that died mid-write, deleted by this listing (relative paths). */
  sweptTempFiles: string[];
}

export interface SaveOptions {
  /** Replace a preset of the same name (default). When false, an existing preset is PRESET_EXISTS. */
  overwrite?: boolean;
}

/** writeFileAtomic's temporary name: `<target>.tmp-<pid>-<hex>`. */
const TEMP_FILE = /\.json\.tmp-(\d+)-[0-9a-f]+$/;

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
const byName = (a: string, b: string) => collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);

type Existing =
  | { kind: 'none' }
  | { kind: 'ok'; preset: Preset }
  /** `name` is the file's name field when the JSON parses that far. */
  | { kind: 'invalid'; error: RhodopsError; name: string | undefined };

export class PresetStore {
  readonly dir: string;
  private readonly now: () => Date;
  private readonly maxFileBytes: number;
  private readonly staleTempMs: number;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: PresetStoreOptions = {}) {
    // `{ dir: undefined }` means the default, as leaving it out does.
    const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as PresetStoreOptions;
    const o = { ...DEFAULTS, ...given };
    for (const key of ['maxFileBytes', 'staleTempMs'] as const) {
      if (!Number.isInteger(o[key]) || o[key] <= 0) {
        throw new RhodopsError('BAD_OPTION', `PresetStore option ${key} is ${o[key]}; it must be a positive integer.`, {
          hint: `Leave ${key} out for the default (${DEFAULTS[key]}).`,
        });
      }
    }
    this.dir = path.resolve(o.dir);
    this.now = o.now;
    this.maxFileBytes = o.maxFileBytes;
    this.staleTempMs = o.staleTempMs;
  }

  /** Where a preset is (or would be) stored. Checks both names; touches no file. */
  fileFor(bank: string, name: string): string {
    return this.presetPath(checkBank(bank), checkName(name));
  }

  /** Creates or overwrites a preset; sets updatedAt (and createdAt for a new one). Returns what was written. */
  async save(draft: PresetDraft, options: SaveOptions = {}): Promise<Preset> {
    const name = checkName(draft.name);
    const bank = checkBank(draft.bank ?? DEFAULT_BANK);
    const stamp = this.now().toISOString();
    // Validate before touching anything; the timestamps are placeholders until we know the old file.
    const valid = parsePreset({ ...draft, version: PRESET_VERSION, name, bank, createdAt: draft.createdAt ?? stamp, updatedAt: stamp }, `Preset '${name}'`);
    return this.exclusive(async () => {
      const file = this.presetPath(bank, name);
      await this.bankDir(bank, true);
      const existing = await this.readExisting(file);
      let createdAt = valid.createdAt;
      if (existing.kind === 'ok') {
        if (existing.preset.name !== name) throw sharedFile(name, existing.preset.name, file);
        if (options.overwrite === false) {
          throw new RhodopsError('PRESET_EXISTS', `Bank '${bank}' already has a preset '${name}' (${file}).`, {
            hint: 'Pick another name, or save with overwrite to replace it.',
          });
        }
        createdAt = existing.preset.createdAt;
      } else if (existing.kind === 'invalid' && (existing.name !== name || options.overwrite === false)) {
        throw new RhodopsError('PRESET_EXISTS', `Cannot save '${name}': ${file} is taken by a file that cannot be read (${existing.error.message})`, {
          hint: 'Fix or remove that file, or pick another name.',
        });
      }
      const preset: Preset = { ...valid, createdAt, updatedAt: stamp };
      await writeFileAtomic(file, formatPreset(preset));
      return preset;
    });
  }

  /** The preset of exactly this name (after trimming) in `bank`. */
  async load(bank: string, name: string): Promise<Preset> {
    return this.read(checkBank(bank), checkName(name));
  }

  /** Every readable preset (of one bank, or all), and the files that could not be read. */
  async list(bank?: string): Promise<PresetList> {
    const problems: PresetProblem[] = [];
    const banks = bank === undefined ? await this.bankNames(problems) : [checkBank(bank)];
    const presets: PresetSummary[] = [];
    const swept: string[] = [];
    for (const b of banks) {
      let dir: string | null;
      try {
        dir = await this.bankDir(b, false);
      } catch (e) {
        if (!isRhodopsError(e)) throw e;
        problems.push({ file: `${b}/`, code: e.code, message: e.message });
        continue;
      }
      if (!dir) continue;
      const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const entry of entries) {
        if (!entry.isFile()) continue;
        const rel = `${b}/${entry.name}`;
        const file = path.join(dir, entry.name);
        if (TEMP_FILE.test(entry.name)) {
          if (await this.sweepTemp(file, entry.name)) swept.push(rel);
          continue;
        }
        if (!entry.name.endsWith(PRESET_EXT)) continue;
        try {
          const p = await this.readFile(file);
          const expected = presetFileStem(p.name) + PRESET_EXT;
          if (expected !== entry.name) {
            throw new RhodopsError('PRESET_INVALID', `${file} holds the preset '${p.name}', whose file name is ${expected}.`, {
              hint: `Rename the file to ${expected} so the preset can be found by its name.`,
            });
          }
          presets.push({ name: p.name, bank: b, file: rel, modelId: p.model.id, modelKind: p.model.kind, createdAt: p.createdAt, updatedAt: p.updatedAt });
        } catch (e) {
          const err = isRhodopsError(e) ? e : new RhodopsError('PRESET_INVALID', `${file} cannot be read: ${messageOf(e)}.`, { hint: 'Check its permissions.' });
          problems.push({ file: rel, code: err.code, message: err.message });
        }
      }
    }
    for (const p of problems) log.warn(`skipped ${p.file}: ${p.message}`);
    presets.sort((a, b) => byName(a.bank, b.bank) || byName(a.name, b.name));
    problems.sort((a, b) => byName(a.file, b.file));
    return { presets, problems, sweptTempFiles: swept };
  }

  /** Renames a preset inside its bank. A name already taken is PRESET_EXISTS. */
  async rename(bank: string, from: string, to: string): Promise<Preset> {
    const b = checkBank(bank);
    const oldName = checkName(from);
    const newName = checkName(to);
    return this.exclusive(() => this.relocate(b, oldName, b, newName));
  }

  /** Moves a preset to another bank (created if needed), keeping its name. */
  async move(bank: string, name: string, toBank: string): Promise<Preset> {
    const from = checkBank(bank);
    const to = checkBank(toBank);
    const n = checkName(name);
    return this.exclusive(() => this.relocate(from, n, to, n));
  }

  /**
   * Deletes a preset. A file that cannot be parsed at all is deleted by any name that maps to it, so a
   * corrupt file can always be cleared.
   */
  async remove(bank: string, name: string): Promise<void> {
    const b = checkBank(bank);
    const n = checkName(name);
    await this.exclusive(async () => {
      const file = this.presetPath(b, n);
      if (!(await this.bankDir(b, false))) throw notFound(b, n, file);
      const existing = await this.readExisting(file);
      if (existing.kind === 'none') throw notFound(b, n, file);
      const holder = existing.kind === 'ok' ? existing.preset.name : existing.name;
      if (holder !== undefined && holder !== n) throw notFound(b, n, file, holder);
      await fs.rm(file);
      await syncDir(path.dirname(file));
    });
  }

  /** Bank names (directories with valid names), sorted. */
  async banks(): Promise<string[]> {
    return this.bankNames([]);
  }

  // ——— internals ———

  private presetPath(bank: string, name: string): string {
    const file = path.join(this.dir, bank, presetFileStem(name) + PRESET_EXT);
    const rel = path.relative(this.dir, file);
    // Names were checked; this is the second lock on the door.
    if (rel.startsWith('..') || path.isAbsolute(rel) || rel.split(path.sep).length !== 2) {
      throw new RhodopsError('PRESET_BAD_NAME', `Preset '${name}' in bank '${bank}' would be stored outside ${this.dir}.`, {
        hint: 'Use a plain name without path separators.',
      });
    }
    return file;
  }

  /**
   * The bank's directory, checked (through symbolic links) to be a direct child of the root. With
   * `create`, made if missing; without, null when missing.
   */
  private async bankDir(bank: string, create: boolean): Promise<string | null> {
    const dir = path.join(this.dir, bank);
    if (create) await fs.mkdir(dir, { recursive: true });
    let real: string;
    let realRoot: string;
    try {
      [real, realRoot] = await Promise.all([fs.realpath(dir), fs.realpath(this.dir)]);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !create) return null;
      throw e;
    }
    if (path.dirname(real) !== realRoot) {
      throw new RhodopsError('PRESET_BAD_NAME', `Bank '${bank}' leads outside ${this.dir} (it is a link to ${real}).`, {
        hint: 'Replace the link with a real folder, or use another bank.',
      });
    }
    return dir;
  }

  private async bankNames(problems: PresetProblem[]): Promise<string[]> {
    const entries = await fs.readdir(this.dir, { withFileTypes: true }).catch(() => []);
    const out: string[] = [];
    for (const e of entries) {
      if (!(e.isDirectory() || e.isSymbolicLink()) || e.name.startsWith('.')) continue;
      const problem = bankNameProblem(e.name);
      if (!problem && e.isSymbolicLink()) {
        // A link is a bank only if it leads to a folder inside the store.
        try {
          if (await this.bankDir(e.name, false)) out.push(e.name);
        } catch (err) {
          if (!isRhodopsError(err)) throw err;
          problems.push({ file: `${e.name}/`, code: err.code, message: err.message });
        }
      } else if (problem) {
        problems.push({
          file: `${e.name}/`,
          code: 'PRESET_BAD_NAME',
          message: `The folder ${path.join(this.dir, e.name)} is not a bank: its name ${problem}. Rename it to '${suggestBankName(e.name)}' to use it.`,
        });
      } else out.push(e.name);
    }
    return out.sort(byName);
  }

  private async read(bank: string, name: string): Promise<Preset> {
    const file = this.presetPath(bank, name);
    if (!(await this.bankDir(bank, false))) throw notFound(bank, name, file);
    let preset: Preset;
    try {
      preset = await this.readFile(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(bank, name, file);
      throw e;
    }
    if (preset.name !== name) throw notFound(bank, name, file, preset.name);
    // The folder is the truth about the bank (a file may have been moved by hand).
    return preset.bank === bank ? preset : { ...preset, bank };
  }

  /** Reads and validates one file. Errors other than PRESET_INVALID come from the file system (ENOENT…). */
  private async readFile(file: string): Promise<Preset> {
    const st = await fs.lstat(file);
    if (!st.isFile()) {
      throw new RhodopsError('PRESET_INVALID', `${file} is not a regular file.`, { hint: 'Replace it with a preset file, or remove it.' });
    }
    if (st.size > this.maxFileBytes) {
      throw new RhodopsError('PRESET_INVALID', `${file} is ${st.size} bytes; presets are at most ${this.maxFileBytes}.`, {
        hint: 'This is not a preset rhodops wrote; move it out of the preset folder.',
      });
    }
    return parsePresetText(await fs.readFile(file, 'utf8'), file);
  }

  private async readExisting(file: string): Promise<Existing> {
    try {
      return { kind: 'ok', preset: await this.readFile(file) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'none' };
      if (!isRhodopsError(e, 'PRESET_INVALID')) throw e;
      let name: string | undefined;
      try {
        const raw = (JSON.parse(await fs.readFile(file, 'utf8')) as { name?: unknown }).name;
        if (typeof raw === 'string') name = normalizeName(raw);
      } catch {
        // Not JSON at all: no name to compare.
      }
      return { kind: 'invalid', error: e, name };
    }
  }

  /** Writes the preset under its new bank/name, then deletes the old file: a crash between leaves both, never neither. */
  private async relocate(fromBank: string, fromName: string, toBank: string, toName: string): Promise<Preset> {
    const preset = await this.read(fromBank, fromName);
    if (fromBank === toBank && fromName === toName) return preset;
    const oldFile = this.presetPath(fromBank, fromName);
    const newFile = this.presetPath(toBank, toName);
    await this.bankDir(toBank, true);
    if (newFile !== oldFile) {
      const existing = await this.readExisting(newFile);
      if (existing.kind !== 'none') {
        const holder = existing.kind === 'ok' ? `the preset '${existing.preset.name}'` : 'a file that cannot be read';
        throw new RhodopsError(
          'PRESET_EXISTS',
          `Cannot ${fromBank === toBank ? `rename '${fromName}' to '${toName}'` : `move '${fromName}' to bank '${toBank}'`}: ${newFile} already holds ${holder}.`,
          { hint: 'Pick another name, or remove or rename the other preset first.' },
        );
      }
    }
    const moved: Preset = { ...preset, name: toName, bank: toBank, updatedAt: this.now().toISOString() };
    await writeFileAtomic(newFile, formatPreset(moved));
    if (newFile !== oldFile) {
      await fs.rm(oldFile);
      await syncDir(path.dirname(oldFile));
    }
    return moved;
  }

  /** Deletes a temporary file whose writer is gone (or that is too old to be a write in progress). */
  private async sweepTemp(file: string, base: string): Promise<boolean> {
    const pid = Number(TEMP_FILE.exec(base)?.[1]);
    const st = await fs.lstat(file).catch(() => null);
    if (!st) return false;
    const stale = Date.now() - st.mtimeMs > this.staleTempMs;
    if (!stale && (pid === process.pid || processAlive(pid))) return false;
    await fs.rm(file, { force: true });
    log.debug(`removed ${file}, left by a write that did not finish`);
    return true;
  }

  /** Runs `fn` after every change queued before it, so this store's changes never interleave. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The normalized name, or PRESET_BAD_NAME saying why not. */
function checkName(name: string): string {
  const n = typeof name === 'string' ? normalizeName(name) : '';
  const problem = typeof name === 'string' ? presetNameProblem(n) : 'is not a string';
  if (problem) {
    throw new RhodopsError('PRESET_BAD_NAME', `The preset name ${JSON.stringify(name)} ${problem}.`, {
      hint: "Use a short name of letters, digits, spaces and punctuation, without '/' or '\\' (e.g. 'Acid Bloom 2').",
    });
  }
  return n;
}

function checkBank(bank: string): string {
  const problem = typeof bank === 'string' ? bankNameProblem(bank) : 'is not a string';
  if (problem) {
    throw new RhodopsError('PRESET_BAD_NAME', `The bank name ${JSON.stringify(bank)} ${problem}; try '${suggestBankName(String(bank))}'.`, {
      hint: "Bank names are folder names: lowercase letters, digits and '-'.",
    });
  }
  return bank;
}

function notFound(bank: string, name: string, file: string, holder?: string): RhodopsError {
  if (holder !== undefined) {
    return new RhodopsError('PRESET_NOT_FOUND', `No preset '${name}' in bank '${bank}': ${file} holds '${holder}'.`, {
      hint: `Names are exact; did you mean '${holder}'?`,
    });
  }
  return new RhodopsError('PRESET_NOT_FOUND', `No preset '${name}' in bank '${bank}' (looked for ${file}).`, {
    hint: 'List the bank to see its presets and their exact names.',
  });
}

function sharedFile(name: string, holder: string, file: string): RhodopsError {
  return new RhodopsError(
    'PRESET_EXISTS',
    `Cannot save '${name}': it would share ${file} with the preset '${holder}' (names that differ only in case, spaces or punctuation are stored in the same file).`,
    { hint: `Pick a name that differs in its letters or digits, or save over '${holder}' by using exactly that name.` },
  );
}
