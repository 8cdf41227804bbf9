/**
 * Preset and bank names, and the file names they are stored under. Pure: no file system here.
 *
 * A preset keeps its display name in its JSON; on disk it is `<bank>/<stem>.json`, where the stem is a
 * lowercase slug of the name (letters and digits of any script, runs of anything else become one `-`).
 * Two names with the same stem ("Foo Bar", "foo-bar") would share a file; the store refuses the second.
 * Bank names are their own directory names, so they must already be slugs ("live-set", not "Live Set").
 */
import { createHash } from 'node:crypto';

export const MAX_NAME_LENGTH = 100;
export const MAX_BANK_LENGTH = 64;
/** Stems longer than this many UTF-8 bytes are cut and given a hash suffix (file names cap at 255 bytes). */
export const MAX_STEM_BYTES = 80;
export const PRESET_EXT = '.json';

/** Device names Windows reserves in every directory, with any extension ("con.json" too). */
const WINDOWS_RESERVED = new Set([
  'con', 'prn', 'aux', 'nul',
  ...Array.from({ length: 9 }, (_, i) => `com${i + 1}`),
  ...Array.from({ length: 9 }, (_, i) => `lpt${i + 1}`),
]);

export function isWindowsReserved(stem: string): boolean {
  return WINDOWS_RESERVED.has(stem.toLowerCase());
}

/** Why `name` cannot be a preset name, or null when it can. Expects a name already normalized. */
export function presetNameProblem(name: string): string | null {
  if (name.length === 0) return 'is empty';
  const chars = [...name].length;
  if (chars > MAX_NAME_LENGTH) return `is ${chars} characters long; the limit is ${MAX_NAME_LENGTH}`;
  if (/\p{Cc}/u.test(name)) return 'contains a control character (NUL, newline, tab, …)';
  if (/[/\\]/.test(name)) return "contains '/' or '\\', which could reach outside the preset folder";
  if (/^\.+$/.test(name)) return 'is only dots';
  return null;
}

/** Trims and NFC-normalizes a display name, so "é" typed two ways is one name. */
export function normalizeName(name: string): string {
  return name.normalize('NFC').trim();
}

function slug(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '');
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/** Cuts `text` to at most `maxBytes` UTF-8 bytes without splitting a character. */
function cutToBytes(text: string, maxBytes: number): string {
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > maxBytes) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/**
 * The file stem for a (valid, normalized) preset name: "Acid Bloom #2" → "acid-bloom-2". Names with no
 * letter or digit ("🔥🔥") get "preset-<hash>"; over-long stems are cut and given a hash of the whole;
 * Windows device names get a trailing "_" ("CON" → "con_").
 */
export function presetFileStem(name: string): string {
  const s = slug(name);
  let stem: string;
  if (s === '') stem = `preset-${shortHash(name)}`;
  else if (Buffer.byteLength(s) > MAX_STEM_BYTES) stem = `${cutToBytes(s, MAX_STEM_BYTES - 9).replace(/-+$/, '')}-${shortHash(s)}`;
  else stem = s;
  return isWindowsReserved(stem) ? `${stem}_` : stem;
}

/** Why `bank` cannot be a bank name, or null when it can. A valid bank is its own directory name. */
export function bankNameProblem(bank: string): string | null {
  if (bank.length === 0) return 'is empty';
  if (bank.length > MAX_BANK_LENGTH) return `is ${bank.length} characters long; the limit is ${MAX_BANK_LENGTH}`;
  if (/\p{Cc}/u.test(bank)) return 'contains a control character (NUL, newline, tab, …)';
  if (/[/\\]/.test(bank) || /^\.+$/.test(bank)) return 'is a path, not a name';
  if (slug(bank) !== bank) return 'must be lowercase letters and digits with single "-" between words';
  if (isWindowsReserved(bank)) return 'is a device name that Windows reserves';
  return null;
}

/** A bank name close to what was asked for, to put in the error's hint. */
export function suggestBankName(bank: string): string {
  const s = cutToBytes(slug(bank), MAX_BANK_LENGTH).replace(/-+$/, '');
  if (s === '') return 'default';
  return isWindowsReserved(s) ? `${s}-bank` : s;
}
