/**
 * A reader for the part of the MATLAB Level 5 MAT-file format that datasets use (SVHN's *_32x32.mat):
 * the 128-byte header with its endian indicator, data elements in the normal and the small (packed) tag
 * format, miCOMPRESSED (zlib) elements, and miMATRIX arrays of the numeric classes, with their flags,
 * dimensions, name and real part. Char arrays are decoded to text; cells, structs, objects, sparse and
 * 64-bit integer arrays are listed (name, class, dims) without their data.
 *
 * Layout rules (MathWorks, "MAT-File Format", Level 5): every data element is an 8-byte tag (type, byte
 * count) followed by its data, padded to a multiple of 8 bytes. When the byte count is at most 4 the tag
 * and data share 8 bytes: the first 32-bit word holds (count << 16 | type). miCOMPRESSED elements hold a
 * zlib stream of one complete element and are not padded. Numeric data may be stored in a smaller type
 * than its class (MATLAB writes a double array of small integers as miUINT8): values convert to the class.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { messageOf, RhodopsError } from '../../core/errors.ts';

const inflate = promisify(zlib.inflate);

/** Data element types (miXXX). */
const MI = {
  INT8: 1,
  UINT8: 2,
  INT16: 3,
  UINT16: 4,
  INT32: 5,
  UINT32: 6,
  SINGLE: 7,
  DOUBLE: 9,
  INT64: 12,
  UINT64: 13,
  MATRIX: 14,
  COMPRESSED: 15,
  UTF8: 16,
  UTF16: 17,
  UTF32: 18,
} as const;

const MI_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8, 12: 8, 13: 8, 16: 1, 17: 2, 18: 4 };

/** Array classes (mxXXX_CLASS), by their number in the array-flags word. */
const CLASS_NAMES = {
  1: 'cell',
  2: 'struct',
  3: 'object',
  4: 'char',
  5: 'sparse',
  6: 'double',
  7: 'single',
  8: 'int8',
  9: 'uint8',
  10: 'int16',
  11: 'uint16',
  12: 'int32',
  13: 'uint32',
  14: 'int64',
  15: 'uint64',
} as const;
export type MatClass = (typeof CLASS_NAMES)[keyof typeof CLASS_NAMES];

export type MatNumericData = Float64Array | Float32Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;

export interface MatVariable {
  name: string;
  class: MatClass;
  /** MATLAB dimensions, e.g. [32, 32, 3, N]. */
  dims: number[];
  complex: boolean;
  logical: boolean;
  /** The real part, column-major (first dimension fastest), as the class's type; numeric classes only. */
  data?: MatNumericData;
  /** The characters of a char array, column-major. */
  text?: string;
}

export interface Mat5File {
  /** The descriptive text of the header, e.g. "MATLAB 5.0 MAT-file, Platform: …". */
  description: string;
  littleEndian: boolean;
  variables: MatVariable[];
}

const HEADER_BYTES = 128;

/** `label` names the file in errors (a path, usually). */
export async function parseMat5(bytes: Uint8Array, label: string): Promise<Mat5File> {
  const fail = (what: string, hint = 'download the file again; it must be a MATLAB v5–v7 MAT-file (save -v7)') =>
    new RhodopsError('DATASET_INVALID', `${label}: ${what}`, { hint });
  if (bytes.length < HEADER_BYTES) throw fail(`truncated MAT-file: ${bytes.length} bytes, shorter than the ${HEADER_BYTES}-byte header`);
  const description = new TextDecoder('latin1').decode(bytes.subarray(0, 116)).replace(/[\0 ]+$/, '');
  if (description.startsWith('MATLAB 7.3')) {
    throw fail('is a MATLAB 7.3 MAT-file (HDF5), which this reader does not read', 'save it again in MATLAB with `save(file, "-v7")`');
  }
  const endian = String.fromCharCode(bytes[126]!, bytes[127]!);
  if (endian !== 'IM' && endian !== 'MI') {
    throw fail(`not a MATLAB 5 MAT-file: bytes 126–127 are ${JSON.stringify(endian)}, expected the endian indicator "IM" or "MI"`);
  }
  const littleEndian = endian === 'IM';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(124, littleEndian);
  if (version !== 0x0100) throw fail(`unsupported MAT-file version 0x${version.toString(16)} (expected 0x0100)`);

  const variables: MatVariable[] = [];
  let pos = HEADER_BYTES;
  while (pos < bytes.length) {
    if (bytes.length - pos < 8) {
      if (bytes.subarray(pos).some((b) => b !== 0)) throw fail(`truncated: ${bytes.length - pos} bytes at the end, less than one element tag`);
      break;
    }
    const tag = readTag(view, pos, bytes.length, littleEndian, fail);
    if (tag.type === MI.COMPRESSED) {
      let inner: Uint8Array;
      try {
        // A sync flush tolerates a stream without its end marker; a short stream shows up as a truncated element.
        inner = await inflate(bytes.subarray(tag.dataStart, tag.dataEnd), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
      } catch (e) {
        throw fail(`the compressed element at byte ${pos} is corrupt (zlib: ${messageOf(e)})`);
      }
      const innerView = new DataView(inner.buffer, inner.byteOffset, inner.byteLength);
      const innerFail = (what: string) => fail(`in the compressed element at byte ${pos}: ${what}`);
      if (inner.length < 8) throw innerFail(`truncated: ${inner.length} bytes decompressed, less than one tag`);
      const innerTag = readTag(innerView, 0, inner.length, littleEndian, innerFail);
      if (innerTag.type === MI.MATRIX) variables.push(readMatrix(inner, innerView, innerTag, littleEndian, innerFail));
      pos = tag.dataEnd; // compressed elements are not padded
    } else {
      if (tag.type === MI.MATRIX && tag.dataEnd > tag.dataStart) variables.push(readMatrix(bytes, view, tag, littleEndian, fail));
      pos = tag.next;
    }
  }
  return { description, littleEndian, variables };
}

interface Tag {
  type: number;
  dataStart: number;
  dataEnd: number;
  /** Where the next element starts (after padding). */
  next: number;
}

function readTag(view: DataView, pos: number, end: number, le: boolean, fail: (what: string) => Error): Tag {
  if (pos + 8 > end) throw fail(`truncated: a data element tag at byte ${pos} needs 8 bytes, ${end - pos} remain`);
  const first = view.getUint32(pos, le);
  if (first >>> 16 !== 0) {
    // Small data element: count and type share the first word, the data (≤ 4 bytes) the second.
    const count = first >>> 16;
    if (count > 4) throw fail(`corrupt small data element at byte ${pos}: ${count} bytes (at most 4)`);
    return { type: first & 0xffff, dataStart: pos + 4, dataEnd: pos + 4 + count, next: pos + 8 };
  }
  const count = view.getUint32(pos + 4, le);
  const dataStart = pos + 8;
  const dataEnd = dataStart + count;
  if (dataEnd > end) {
    throw fail(`truncated: the data element at byte ${pos} (type ${first}) needs ${count} bytes, ${end - dataStart} remain`);
  }
  return { type: first, dataStart, dataEnd, next: Math.min(end, dataStart + Math.ceil(count / 8) * 8) };
}

function readMatrix(bytes: Uint8Array, view: DataView, tag: Tag, le: boolean, fail: (what: string) => Error): MatVariable {
  const end = tag.dataEnd;
  const sub = (pos: number, what: string): Tag => {
    if (pos >= end) throw fail(`truncated array: its ${what} is missing`);
    return readTag(view, pos, end, le, fail);
  };
  const flagsTag = sub(tag.dataStart, 'array flags');
  if (flagsTag.type !== MI.UINT32 || flagsTag.dataEnd - flagsTag.dataStart < 4) throw fail(`corrupt array flags at byte ${tag.dataStart}`);
  const flagWord = view.getUint32(flagsTag.dataStart, le);
  const classNumber = flagWord & 0xff;
  const cls = CLASS_NAMES[classNumber as keyof typeof CLASS_NAMES];
  if (!cls) throw fail(`unknown array class ${classNumber} at byte ${tag.dataStart}`);
  const complex = (flagWord & 0x0800) !== 0;
  const logical = (flagWord & 0x0200) !== 0;

  const dimsTag = sub(flagsTag.next, 'dimensions');
  if (dimsTag.type !== MI.INT32) throw fail(`corrupt dimensions of a ${cls} array: type ${dimsTag.type}, expected miINT32`);
  const dims: number[] = [];
  for (let p = dimsTag.dataStart; p + 4 <= dimsTag.dataEnd; p += 4) dims.push(view.getInt32(p, le));
  if (dims.length < 2 || dims.some((d) => d < 0)) throw fail(`corrupt dimensions [${dims.join(', ')}] of a ${cls} array`);

  const nameTag = sub(dimsTag.next, 'name');
  if (nameTag.type !== MI.INT8 && nameTag.type !== MI.UINT8) throw fail(`corrupt array name: type ${nameTag.type}, expected miINT8`);
  const name = new TextDecoder('latin1').decode(bytes.subarray(nameTag.dataStart, nameTag.dataEnd));

  const variable: MatVariable = { name, class: cls, dims, complex, logical };
  const count = dims.reduce((a, b) => a * b, 1);
  const isNumeric = classNumber >= 6 && classNumber <= 13;
  if (!isNumeric && cls !== 'char') return variable;

  const fieldFail = (what: string) => fail(`variable "${name}": ${what}`);
  const realTag = sub(nameTag.next, `real part (variable "${name}")`);
  const itemSize = MI_SIZE[realTag.type];
  if (itemSize === undefined) throw fieldFail(`unsupported data type ${realTag.type} for its real part`);
  const have = (realTag.dataEnd - realTag.dataStart) / itemSize;
  if (cls === 'char') {
    variable.text = decodeText(bytes, view, realTag, le);
    return variable;
  }
  if (have !== count) {
    throw fieldFail(`its real part holds ${have} values, its dimensions [${dims.join('×')}] need ${count}`);
  }
  variable.data = readNumbers(bytes, view, realTag, count, cls as NumericClass, le);
  return variable;
}

type NumericClass = 'double' | 'single' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32';

const CLASS_ARRAYS = {
  double: Float64Array,
  single: Float32Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
} as const;

/** The data type that stores a class without conversion. */
const NATIVE_TYPE: Record<NumericClass, number> = {
  double: MI.DOUBLE,
  single: MI.SINGLE,
  int8: MI.INT8,
  uint8: MI.UINT8,
  int16: MI.INT16,
  uint16: MI.UINT16,
  int32: MI.INT32,
  uint32: MI.UINT32,
};

function readNumbers(bytes: Uint8Array, view: DataView, tag: Tag, count: number, cls: NumericClass, le: boolean): MatNumericData {
  const Ctor = CLASS_ARRAYS[cls];
  // Data stored as the class itself, in this machine's byte order and aligned: a view, no copy.
  const offset = bytes.byteOffset + tag.dataStart;
  const width = Ctor.BYTES_PER_ELEMENT;
  if (tag.type === NATIVE_TYPE[cls] && (width === 1 || (le === HOST_LITTLE_ENDIAN && offset % width === 0))) {
    return new Ctor(bytes.buffer as ArrayBuffer, offset, count);
  }
  const out = new Ctor(count);
  const get = getter(view, tag.type, le);
  const size = MI_SIZE[tag.type]!;
  for (let i = 0, p = tag.dataStart; i < count; i++, p += size) out[i] = get(p);
  return out;
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function getter(view: DataView, type: number, le: boolean): (p: number) => number {
  switch (type) {
    case MI.INT8:
      return (p) => view.getInt8(p);
    case MI.UINT8:
      return (p) => view.getUint8(p);
    case MI.INT16:
      return (p) => view.getInt16(p, le);
    case MI.UINT16:
      return (p) => view.getUint16(p, le);
    case MI.INT32:
      return (p) => view.getInt32(p, le);
    case MI.UINT32:
      return (p) => view.getUint32(p, le);
    case MI.SINGLE:
      return (p) => view.getFloat32(p, le);
    case MI.DOUBLE:
      return (p) => view.getFloat64(p, le);
    case MI.INT64:
      return (p) => Number(view.getBigInt64(p, le));
    case MI.UINT64:
      return (p) => Number(view.getBigUint64(p, le));
    default:
      throw new Error(`no reader for MAT data type ${type}`);
  }
}

function decodeText(bytes: Uint8Array, view: DataView, tag: Tag, le: boolean): string {
  const data = bytes.subarray(tag.dataStart, tag.dataEnd);
  if (tag.type === MI.UTF8) return new TextDecoder('utf-8').decode(data);
  if (tag.type === MI.UINT8 || tag.type === MI.INT8) return new TextDecoder('latin1').decode(data);
  // MATLAB stores characters as UTF-16 code units (miUINT16 or miUTF16), sometimes as miUTF32.
  const size = MI_SIZE[tag.type]!;
  let text = '';
  for (let p = tag.dataStart; p + size <= tag.dataEnd; p += size) {
    const code = size === 2 ? view.getUint16(p, le) : size === 4 ? view.getUint32(p, le) : view.getUint8(p);
    text += size === 4 ? (code <= 0x10ffff ? String.fromCodePoint(code) : "\ufffd") : String.fromCharCode(code);
  }
  return text;
}
