/**
 * Read an ONNX file's `aekit.*` metadata in the browser without a protobuf library: onnxruntime-web
 * sessions do not expose `metadata_props`, and onnx-proto (what the Node side uses) is too big for
 * a page. This walks only the top level of `ModelProto` and skips every other field by its length.
 * Pure code: the browser module bundles it.
 */
import { aekitFields } from './metadata';

/** Field number of `ModelProto.metadata_props` (onnx.proto3: `repeated StringStringEntryProto metadata_props = 14`). */
const METADATA_PROPS_FIELD = 14;
/** `StringStringEntryProto`: `string key = 1; string value = 2;`. */
const ENTRY_KEY_FIELD = 1;
const ENTRY_VALUE_FIELD = 2;

/** Protobuf wire types (protobuf encoding spec). */
const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;


class Reader {
  pos = 0;
  constructor(private readonly bytes: Uint8Array, private readonly end: number = bytes.length) {}

  get done(): boolean {
    return this.pos >= this.end;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const byte = this.bytes[this.pos++];
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
    throw new Error('varint longer than 10 bytes');
  }

  /** Start and end of the next length-delimited field's payload; moves past it. */
  span(): [number, number] {
    const length = this.varint();
    const start = this.pos;
    if (start + length > this.end) throw new Error(`field of ${length} bytes runs past the end`);
    this.pos = start + length;
    return [start, this.pos];
  }

  skip(wireType: number): void {
    if (wireType === WIRE_VARINT) this.varint();
    else if (wireType === WIRE_FIXED64) this.pos += 8;
    else if (wireType === WIRE_LENGTH_DELIMITED) this.span();
    else if (wireType === WIRE_FIXED32) this.pos += 4;
    else throw new Error(`unsupported wire type ${wireType}`);
  }
}

/**
 * The `metadata_props` of an ONNX model as a key -> string map.
 *
 * @throws Error when the bytes are not a protobuf message (e.g. an HTML 404 page).
 */
export function readOnnxMetadataProps(bytes: Uint8Array): Record<string, string> {
  const decoder = new TextDecoder();
  const reader = new Reader(bytes);
  const props: Record<string, string> = {};
  while (!reader.done) {
    const tag = reader.varint();
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (field !== METADATA_PROPS_FIELD || wireType !== WIRE_LENGTH_DELIMITED) {
      reader.skip(wireType);
      continue;
    }
    const [start, end] = reader.span();
    const entry = new Reader(bytes, end);
    entry.pos = start;
    let key = '';
    let value = '';
    while (!entry.done) {
      const entryTag = entry.varint();
      const entryField = Math.floor(entryTag / 8);
      if ((entryField === ENTRY_KEY_FIELD || entryField === ENTRY_VALUE_FIELD) && (entryTag & 7) === WIRE_LENGTH_DELIMITED) {
        const [s, e] = entry.span();
        const text = decoder.decode(bytes.subarray(s, e));
        if (entryField === ENTRY_KEY_FIELD) key = text;
        else value = text;
      } else {
        entry.skip(entryTag & 7);
      }
    }
    props[key] = value;
  }
  return props;
}

/**
 * The `aekit.*` metadata of an artifact, JSON-decoded, keys without the prefix (`latentSize`,
 * `valueRange`, `inputs`, ...), not validated. Empty when the file has none.
 *
 * @throws Error when the bytes are not a protobuf message; AekitError BAD_DATA for a value that is not JSON.
 */
export function readAekitMetadata(bytes: Uint8Array, where = '<bytes>'): Record<string, unknown> {
  return aekitFields(Object.entries(readOnnxMetadataProps(bytes)).map(([key, value]) => ({ key, value })), where);
}
