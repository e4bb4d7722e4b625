/**
 * v2 inference on one model: the request checked against the model's tensors (names, FP32, shape,
 * batch, values; the same 4xx rules as the server's own API: row limit, finite float32 values,
 * images in the model's value range), read from JSON or from the binary part of Triton's binary
 * tensor data extension, and the response in JSON or binary as each output asks.
 */
import { endianness } from 'node:os';
import { VALUE_RANGES } from '../../data/types';
import type { RowFeeds } from '../batcher';
import { firstNonFinite, VALUE_RANGE_SLACK } from '../codec';
import type { RequestLimits } from '../codec';
import { badField, HttpError } from '../http-error';
import { JSON_TYPE } from '../replies';
import type { Reply } from '../router';
import type { V2Model, V2Tensor } from './models';
import { checkInferRequest } from './schema';
import type { InferRequest } from './schema';

/** Header of the binary tensor data extension: the length of the JSON that starts the body. */
export const INFERENCE_HEADER = 'Inference-Header-Content-Length';

/** Bytes per FP32 value (binary tensor data is the values' native size). */
const FP32_BYTES = 4;
/** Largest float32 magnitude: a finite JSON number past it is Infinity in the model's input. */
const FLOAT32_MAX = 3.4028234663852886e38;
const HOST_IS_LITTLE_ENDIAN = endianness() === 'LE';

/** An output to return, and whether in binary. */
export interface RequestedOutput {
  name: string;
  binary: boolean;
}

/** A request checked against its model: per input `rows` rows, flat; the outputs to return. */
export interface InferInput {
  id?: string;
  rows: number;
  feeds: RowFeeds;
  outputs: RequestedOutput[];
}

const shapeText = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/** A valid body for `model`, for messages. */
function example(model: V2Model): string {
  const first = model.inputs[0];
  const dims = first.shape.slice(1);
  return `{"inputs": [{"name": "${first.name}", "shape": ${shapeText([1, ...dims])}, "datatype": "${first.datatype}", "data": [${dims.reduce((a, b) => a * b, 1)} numbers]}${model.inputs.length > 1 ? ', ...' : ''}]}`;
}

function booleanParameter(parameters: InferRequest['parameters'], name: string, where: string): boolean | undefined {
  const value = parameters?.[name];
  if (value !== undefined && typeof value !== 'boolean') throw badField('INVALID_BODY', `${where}.${name}`, `expected true or false, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * The inputs and outputs of an inference request to `model`.
 * @param binary - the bytes after the JSON header, for requests of the binary tensor data extension
 * @throws HttpError 400 naming the field: unknown or missing tensors, another datatype than the
 *   model's, a shape that does not fit, too many rows, values that are not finite float32 numbers
 *   or (images) lie outside the model's value range, binary sizes that do not add up.
 */
export function parseInfer(body: unknown, binary: Buffer | undefined, model: V2Model, limits: RequestLimits): InferInput {
  const request = checkInferRequest(body, () => example(model));
  for (const [field, expected] of [['model_name', model.name], ['model_version', model.version]] as const) {
    const given = request[field];
    if (given !== undefined && given !== expected) throw badField('INVALID_BODY', field, `'${given}', but this request went to model '${model.name}' version ${model.version}; leave it out or make it agree with the URL`);
  }
  const byName = new Map(model.inputs.map((t) => [t.name, t]));
  const given = new Map<string, number>();
  request.inputs.forEach((input, i) => {
    if (!byName.has(input.name)) throw badField('INVALID_BODY', `inputs[${i}].name`, `model '${model.name}' has no input '${input.name}'; its inputs: ${model.inputs.map((t) => t.name).join(', ')}`);
    if (given.has(input.name)) throw badField('INVALID_BODY', `inputs[${i}].name`, `input '${input.name}' is given twice (also inputs[${given.get(input.name)}])`);
    given.set(input.name, i);
  });
  const missing = model.inputs.find((t) => !given.has(t.name));
  if (missing) throw badField('INVALID_BODY', 'inputs', `missing input '${missing.name}' (${missing.datatype} ${shapeText(missing.shape)}); model '${model.name}' takes: ${model.inputs.map((t) => t.name).join(', ')}`);

  const rows = request.inputs[0].shape[0];
  request.inputs.forEach((input, i) => {
    const tensor = byName.get(input.name)!;
    const where = `inputs[${i}]`;
    if (input.datatype !== tensor.datatype) throw badField('INVALID_BODY', `${where}.datatype`, `'${input.datatype}', but input '${tensor.name}' of model '${model.name}' is ${tensor.datatype}`);
    const fits = input.shape.length === tensor.shape.length && input.shape.every((d, k) => tensor.shape[k] === -1 || tensor.shape[k] === d);
    if (!fits) throw badField('WRONG_SIZE', `${where}.shape`, `${shapeText(input.shape)} does not fit input '${tensor.name}' of model '${model.name}', shape ${shapeText(tensor.shape)} (-1: any number of rows)`);
    if (input.shape[0] === 0) throw badField('WRONG_SIZE', `${where}.shape`, `${shapeText(input.shape)} has no rows; send at least one`);
    if (input.shape[0] !== rows) throw badField('WRONG_SIZE', `${where}.shape`, `${input.shape[0]} rows, but inputs[0] has ${rows}: every input has one row per item of the batch`);
  });
  if (rows > limits.maxRowsPerRequest) throw badField('TOO_MANY_ROWS', 'inputs[0].shape', `${rows} rows, the limit per request is ${limits.maxRowsPerRequest} (--max-rows)`);

  const feeds: RowFeeds = {};
  let offset = 0;
  request.inputs.forEach((input, i) => {
    const where = `inputs[${i}]`;
    const count = input.shape.reduce((a, b) => a * b, 1);
    const size = input.parameters?.binary_data_size;
    let data: Float32Array;
    if (size !== undefined) {
      if (input.data !== undefined) throw badField('INVALID_BODY', `${where}.data`, 'given with parameters.binary_data_size: send the values either in JSON or in binary, not both');
      if (!Number.isSafeInteger(size) || (size as number) < 0) throw badField('INVALID_BODY', `${where}.parameters.binary_data_size`, `expected a whole number of bytes, got ${JSON.stringify(size)}`);
      if (binary === undefined) throw badField('INVALID_BODY', `${where}.parameters.binary_data_size`, `binary data without the ${INFERENCE_HEADER} header: the header gives the length of the JSON, and the binary data follows it`);
      if (size !== count * FP32_BYTES) throw badField('WRONG_SIZE', `${where}.parameters.binary_data_size`, `${size} bytes, but shape ${shapeText(input.shape)} of ${input.datatype} needs ${count} x ${FP32_BYTES} = ${count * FP32_BYTES}`);
      if (offset + (size as number) > binary.length) throw badField('WRONG_SIZE', `${where}.parameters.binary_data_size`, `${size} bytes from byte ${offset} of the binary data, which has only ${binary.length}`);
      data = fromBinary(binary.subarray(offset, offset + (size as number)), count);
      offset += size as number;
    } else {
      if (input.data === undefined) throw badField('INVALID_BODY', `${where}.data`, 'missing; expected the values (a list of numbers), or parameters.binary_data_size with the values in binary after the JSON');
      data = fromJson(input.data, count, `${where}.data`, input.shape);
    }
    checkValues(data, model, input.name, where, size !== undefined);
    feeds[input.name] = data;
  });
  if (binary !== undefined && offset !== binary.length) {
    throw badField('WRONG_SIZE', 'inputs', `the binary data after the JSON is ${binary.length} bytes, but the inputs' binary_data_size add up to ${offset}`);
  }
  return { ...(request.id !== undefined ? { id: request.id } : {}), rows, feeds, outputs: requestedOutputs(request, model) };
}

/** Little-endian FP32 bytes as values (copied: the slice of the body need not be 4-byte aligned). */
function fromBinary(bytes: Buffer, count: number): Float32Array {
  const out = new Float32Array(count);
  new Uint8Array(out.buffer).set(bytes);
  if (!HOST_IS_LITTLE_ENDIAN) Buffer.from(out.buffer).swap32();
  return out;
}

/** JSON values, flat or nested (row-major either way), as float32; each must be a number. */
function fromJson(data: unknown[], count: number, where: string, shape: readonly number[]): Float32Array {
  const out = new Float32Array(count);
  // The usual case, flat finite float32 numbers, in one pass; anything else is walked below, with messages.
  let n = 0;
  if (data.length === count) {
    while (n < count) {
      const value = data[n];
      if (typeof value !== 'number' || !(Math.abs(value) <= FLOAT32_MAX)) break;
      out[n++] = value;
    }
    if (n === count) return out;
  }
  n = 0;
  const put = (value: unknown, at: () => string) => {
    if (typeof value !== 'number') throw badField('INVALID_BODY', at(), `expected a number, got ${describeValue(value)}`);
    if (!Number.isFinite(value)) throw badField('NOT_FINITE', at(), `expected a finite number, got ${value} (the JSON number overflows float64)`);
    if (Math.abs(value) > FLOAT32_MAX) throw badField('NOT_FINITE', at(), `${value} overflows float32, the input's type (largest magnitude ${FLOAT32_MAX.toPrecision(8)})`);
    if (n < count) out[n] = value;
    n++;
  };
  // Nested lists are walked with a stack of [list, next index] (a deep nesting must not overflow the call stack).
  const stack: [unknown[], number][] = [[data, 0]];
  const at = () => where + stack.map(([, i]) => `[${i - 1}]`).join('');
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top[1] >= top[0].length) {
      stack.pop();
      continue;
    }
    const value = top[0][top[1]++];
    if (Array.isArray(value)) stack.push([value, 0]);
    else put(value, at);
  }
  if (n !== count) throw badField('WRONG_SIZE', where, `has ${n} values; shape ${shapeText(shape)} needs ${count}`);
  return out;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 20 ? `${value.slice(0, 20)}...` : value)}`;
  return typeof value;
}

/** Values the model can take: finite, and for an image input within the model's value range. */
function checkValues(data: Float32Array, model: V2Model, input: string, where: string, binary: boolean): void {
  const bad = firstNonFinite(data);
  if (bad >= 0) throw badField('NOT_FINITE', where, `value ${bad} of input '${input}' is ${data[bad]}${binary ? ' (binary data)' : ''}; expected finite numbers`);
  if (input !== model.artifact.info.imageInput) return;
  const [lo, hi] = VALUE_RANGES[model.served.valueRange];
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < lo - VALUE_RANGE_SLACK || v > hi + VALUE_RANGE_SLACK) {
      throw badField('OUT_OF_RANGE', where, `value ${i} of image input '${input}' is ${v}, outside the model's value range [${lo}, ${hi}] ('${model.served.valueRange}')${v > 1 && hi === 1 ? '; scale 0-255 pixels to [0, 1]' : ''}`);
    }
  }
}

/** The outputs asked for (all, in the model's order, when none are named) and whether each comes back in binary. */
function requestedOutputs(request: InferRequest, model: V2Model): RequestedOutput[] {
  const allBinary = booleanParameter(request.parameters, 'binary_data_output', 'parameters') ?? false;
  if (!request.outputs) return model.outputs.map((t) => ({ name: t.name, binary: allBinary }));
  const names = new Set(model.outputs.map((t) => t.name));
  const seen = new Set<string>();
  return request.outputs.map((output, i) => {
    const where = `outputs[${i}]`;
    if (!names.has(output.name)) throw badField('INVALID_BODY', `${where}.name`, `model '${model.name}' has no output '${output.name}'; its outputs: ${[...names].join(', ')}`);
    if (seen.has(output.name)) throw badField('INVALID_BODY', `${where}.name`, `output '${output.name}' is asked for twice`);
    seen.add(output.name);
    if (output.parameters?.classification !== undefined) throw badField('INVALID_BODY', `${where}.parameters.classification`, "Triton's classification extension is not supported; ask for the output itself");
    return { name: output.name, binary: booleanParameter(output.parameters, 'binary_data', `${where}.parameters`) ?? allBinary };
  });
}

/** An output's shape for `rows` rows: -1 (the batch, or a free dimension) from the values' count. */
function outputShape(tensor: V2Tensor, rows: number, values: number): number[] {
  const dims = tensor.shape.slice(1);
  const known = dims.reduce((a, d) => (d === -1 ? a : a * d), 1);
  const free = dims.filter((d) => d === -1).length;
  // One free dimension takes what is left; several cannot be told apart, so the row is reported flat.
  if (free === 0) return [rows, ...dims];
  if (free === 1) return [rows, ...dims.map((d) => (d === -1 ? values / rows / known : d))];
  return [rows, values / rows];
}

/**
 * The response to `input`: JSON when every output comes back in JSON, else the JSON header followed
 * by the binary outputs in their order, with its length in {@link INFERENCE_HEADER}.
 * @throws HttpError 422 OUTPUT_NOT_FINITE naming the output and row: JSON cannot carry them, and the
 *   server's own API answers them so.
 */
export function inferReply(model: V2Model, input: InferInput, outputs: RowFeeds): Reply {
  const parts: string[] = [];
  const binaries: Float32Array[] = [];
  for (const requested of input.outputs) {
    const tensor = model.outputs.find((t) => t.name === requested.name)!;
    const values = outputs[tensor.name];
    const bad = firstNonFinite(values);
    if (bad >= 0) {
      const row = Math.floor(bad / (values.length / input.rows));
      const error = new HttpError(422, 'OUTPUT_NOT_FINITE', `outputs.${tensor.name}[${row}]: model '${model.name}' gave non-finite values (${values[bad]}) for row ${row} of the batch: its inputs are too large for the model`, `outputs.${tensor.name}[${row}]`);
      error.report = `model '${model.name}' gave non-finite outputs for row ${row} of a client's batch (answered 422)`;
      throw error;
    }
    const head = `{"name":${JSON.stringify(tensor.name)},"datatype":"${tensor.datatype}","shape":[${outputShape(tensor, input.rows, values.length).join(',')}]`;
    if (requested.binary) {
      binaries.push(values);
      parts.push(`${head},"parameters":{"binary_data_size":${values.byteLength}}}`);
    } else {
      parts.push(`${head},"data":[${values.join(',')}]}`);
    }
  }
  const id = input.id !== undefined ? `,"id":${JSON.stringify(input.id)}` : '';
  const json = `{"model_name":${JSON.stringify(model.name)},"model_version":"${model.version}"${id},"outputs":[${parts.join(',')}]}`;
  if (binaries.length === 0) return { status: 200, contentType: JSON_TYPE, body: json };
  // One buffer, written in place: the JSON, then each binary output's bytes (little-endian).
  const jsonLength = Buffer.byteLength(json);
  const body = Buffer.allocUnsafe(jsonLength + binaries.reduce((n, b) => n + b.byteLength, 0));
  body.write(json);
  let at = jsonLength;
  for (const values of binaries) {
    body.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), at);
    if (!HOST_IS_LITTLE_ENDIAN) body.subarray(at, at + values.byteLength).swap32();
    at += values.byteLength;
  }
  return { status: 200, contentType: 'application/octet-stream', body, headers: { [INFERENCE_HEADER]: String(jsonLength) } };
}
