/**
 * Mapping files: `--mapping FILE` at start, and the mappings presets refer to. A preset saves the mapping
 * that was playing as a file named by its content, so saving the same mapping twice writes one file and a
 * preset's mapping never changes under it.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { RhodopsError } from '../core/errors.ts';
import { writeFileAtomic } from '../core/fsutil.ts';
import { mappingToJson, parseMappingText, type Mapping } from '../core/mapping/index.ts';

export async function readMappingFile(file: string): Promise<Mapping> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new RhodopsError('MAPPING_INVALID', `cannot read the mapping ${file}: ${code === 'ENOENT' ? 'no such file' : String(code)}`, { hint: 'check the path; mappings are JSON files (see README "Mappings")' });
  }
  return parseMappingText(text, file);
}

/** Writes the mapping into `dir` (once per distinct content) and returns the name a preset stores. */
export async function saveMappingForPreset(dir: string, mapping: Mapping): Promise<string> {
  const text = `${JSON.stringify(mappingToJson(mapping), null, 2)}\n`;
  const slug = mapping.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'mapping';
  const ref = `${slug}-${createHash('sha256').update(text).digest('hex').slice(0, 10)}.json`;
  const file = path.join(dir, ref);
  try {
    await fs.access(file);
  } catch {
    await fs.mkdir(dir, { recursive: true });
    await writeFileAtomic(file, text);
  }
  return ref;
}

/** The mapping a preset refers to: a bare file name inside `dir`, nothing else. */
export async function loadPresetMapping(dir: string, ref: string): Promise<Mapping> {
  if (ref !== path.basename(ref) || !ref.endsWith('.json')) {
    throw new RhodopsError('MAPPING_INVALID', `the preset's mapping '${ref}' is not a mapping file name`, { hint: 'a preset names a .json file in the mappings folder' });
  }
  return readMappingFile(path.join(dir, ref));
}
