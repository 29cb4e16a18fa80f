/**
 * NumPy's `.npy` format, version 1.0 (what bioimage.io test tensors are): the magic
 * `\x93NUMPY`, version bytes, a little-endian uint16 header length, an ASCII dict
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 512, 512), }` padded with
 * spaces and a newline so that the data starts at a multiple of 64 bytes (numpy's own
 * alignment; npyjs pads to 8), then the values in C order.
 */

/** The element types read and written: numpy's descr without the byte-order mark. */
export type NpyType = 'u1' | 'u2' | 'u4' | 'i1' | 'i2' | 'i4' | 'f4' | 'f8';

export interface NpyArray {
  readonly type: NpyType;
  readonly shape: readonly number[];
  /** Values in C order, as stored. */
  readonly data: Uint8Array | Uint16Array | Uint32Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ARRAYS = {
  u1: Uint8Array,
  u2: Uint16Array,
  u4: Uint32Array,
  i1: Int8Array,
  i2: Int16Array,
  i4: Int32Array,
  f4: Float32Array,
  f8: Float64Array,
} as const;

/** Parses `.npy` bytes; `name` (the file) is named in errors. */
export function readNpy(bytes: Uint8Array, name = 'npy'): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new Error(`${name}: not a .npy file (no \\x93NUMPY magic)`);
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [headerLength, start] = major === 1 ? [view.getUint16(8, true), 10] : [view.getUint32(8, true), 12];
  const header = new TextDecoder('latin1').decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr':\s*'([<>|=])([a-z]\d+)'/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !shape) throw new Error(`${name}: unreadable .npy header ${JSON.stringify(header.trim())}`);
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${name}: Fortran-ordered arrays are not read; save it with numpy.ascontiguousarray`);
  const [, order, code] = descr;
  if (!(code in ARRAYS)) throw new Error(`${name}: element type '${code}' is not read; expected one of ${Object.keys(ARRAYS).join(', ')}`);
  const type = code as NpyType;
  const Array_ = ARRAYS[type];
  if (order === '>' && Array_.BYTES_PER_ELEMENT > 1) throw new Error(`${name}: big-endian data ('>${code}') is not read`);
  const dims = shape[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const offset = start + headerLength;
  const size = count * Array_.BYTES_PER_ELEMENT;
  if (bytes.length - offset < size) throw new Error(`${name}: shape (${dims}) needs ${size} data bytes, the file has ${bytes.length - offset}`);
  // Copied (a Buffer's slice would be a view of its pool), so that the typed array is aligned whatever the header length.
  const data = new Array_(Uint8Array.prototype.slice.call(bytes, offset, offset + size).buffer);
  return { type, shape: dims, data };
}

/** `.npy` bytes (version 1.0, little-endian, C order) of `array`. */
export function writeNpy(array: NpyArray): Uint8Array {
  const { type, shape, data } = array;
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new RangeError(`npy: ${data.length} values for shape (${shape})`);
  const order = ARRAYS[type].BYTES_PER_ELEMENT === 1 ? '|' : '<';
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${order}${type}', 'fortran_order': False, 'shape': ${tuple}, }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC);
  out[6] = 1;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

/** The values as float32 (what a network takes), whatever their stored type. */
export function npyToFloat32(array: NpyArray): Float32Array {
  return array.data instanceof Float32Array ? array.data : Float32Array.from(array.data);
}
