/**
 * Triton Inference Server model repositories: `<repo>/<name>/1/model.onnx` plus a `config.pbtxt`
 * for the onnxruntime backend with dynamic batching, and a parser for the subset of protobuf text
 * format those configs use (enough to read back what we write, and hand-edited variants of it).
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AekitError } from '../core/errors';
import { writeFileAtomic, writeOnnxAtomic } from '../core/atomic-write';
import { BATCH_DIM, TensorSpec } from '../artifact/metadata';

/** Default `max_batch_size`: large enough for dynamic batching to matter, small enough for CPU memory. */
export const DEFAULT_TRITON_MAX_BATCH_SIZE = 64;
/** Default dynamic-batching queue delay (Triton's docs suggest starting around 100 us). */
export const DEFAULT_TRITON_MAX_QUEUE_DELAY_US = 100;
/** Version folder the model is written to (Triton serves the highest numeric version). */
export const TRITON_MODEL_VERSION = 1;

/** Options of {@link writeTritonRepository}. */
export interface TritonOptions {
  maxBatchSize?: number;
  preferredBatchSizes?: number[];
  maxQueueDelayMicroseconds?: number;
  /** Replace an existing model.onnx/config.pbtxt. */
  force?: boolean;
}

/** One input or output entry of a Triton config. */
export interface TritonTensorConfig {
  name: string;
  /** e.g. 'TYPE_FP32'. */
  dataType: string;
  /** Dimensions without the batch dimension; -1 for variable ones. */
  dims: number[];
}

/** The fields of a Triton model config that aekit writes and reads. */
export interface TritonModelConfig {
  name: string;
  platform?: string;
  backend?: string;
  maxBatchSize: number;
  inputs: TritonTensorConfig[];
  outputs: TritonTensorConfig[];
  dynamicBatching?: { preferredBatchSize: number[]; maxQueueDelayMicroseconds?: number };
}

/** Where {@link writeTritonRepository} put things. */
export interface TritonRepositoryPaths {
  modelDir: string;
  modelPath: string;
  configPath: string;
}

const TRITON_DATA_TYPES: Readonly<Record<TensorSpec['dtype'], string>> = Object.freeze({
  float32: 'TYPE_FP32',
  int32: 'TYPE_INT32',
});

function positiveInt(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new AekitError('BAD_ARGUMENT', `expected a positive integer, found ${value}`, { where: field });
  }
  return value;
}

function tensorConfig(spec: TensorSpec): TritonTensorConfig {
  if (spec.shape[0] !== BATCH_DIM) {
    throw new AekitError('BAD_ARGUMENT', `first dimension must be '${BATCH_DIM}' for a batching Triton model, found ${spec.shape[0]}`, {
      where: `tensor '${spec.name}'`,
    });
  }
  return { name: spec.name, dataType: TRITON_DATA_TYPES[spec.dtype], dims: spec.shape.slice(1).map((d) => (typeof d === 'number' ? d : -1)) };
}

/** The Triton config for an artifact with inputs/outputs `io`. */
export function tritonConfig(modelName: string, io: { inputs: TensorSpec[]; outputs: TensorSpec[] }, opts: TritonOptions = {}): TritonModelConfig {
  const maxBatchSize = positiveInt(opts.maxBatchSize ?? DEFAULT_TRITON_MAX_BATCH_SIZE, 'maxBatchSize');
  const preferred = (opts.preferredBatchSizes ?? []).map((b) => positiveInt(b, 'preferredBatchSizes'));
  const tooLarge = preferred.find((b) => b > maxBatchSize);
  if (tooLarge !== undefined) {
    throw new AekitError('BAD_ARGUMENT', `preferred batch size ${tooLarge} exceeds maxBatchSize ${maxBatchSize}`, { where: 'preferredBatchSizes' });
  }
  const delay = opts.maxQueueDelayMicroseconds ?? DEFAULT_TRITON_MAX_QUEUE_DELAY_US;
  if (!Number.isInteger(delay) || delay < 0) {
    throw new AekitError('BAD_ARGUMENT', `expected a non-negative integer, found ${delay}`, { where: 'maxQueueDelayMicroseconds' });
  }
  return {
    name: modelName,
    // Triton needs one of `backend` / `platform`; `backend` is the current form (the legacy
    // `platform: "onnxruntime_onnx"` is still understood by the parser).
    backend: 'onnxruntime',
    maxBatchSize,
    inputs: io.inputs.map(tensorConfig),
    outputs: io.outputs.map(tensorConfig),
    dynamicBatching: { preferredBatchSize: preferred, maxQueueDelayMicroseconds: delay },
  };
}

/** config.pbtxt text for a config. */
export function renderTritonConfig(config: TritonModelConfig): string {
  const tensors = (list: TritonTensorConfig[]) =>
    list
      .map((t) => `  {\n    name: ${JSON.stringify(t.name)}\n    data_type: ${t.dataType}\n    dims: [ ${t.dims.join(', ')} ]\n  }`)
      .join(',\n');
  const lines = [
    `name: ${JSON.stringify(config.name)}`,
    ...(config.platform ? [`platform: ${JSON.stringify(config.platform)}`] : []),
    ...(config.backend ? [`backend: ${JSON.stringify(config.backend)}`] : []),
    `max_batch_size: ${config.maxBatchSize}`,
    `input [\n${tensors(config.inputs)}\n]`,
    `output [\n${tensors(config.outputs)}\n]`,
  ];
  if (config.dynamicBatching) {
    const db = config.dynamicBatching;
    const body = [
      ...(db.preferredBatchSize.length > 0 ? [`  preferred_batch_size: [ ${db.preferredBatchSize.join(', ')} ]`] : []),
      ...(db.maxQueueDelayMicroseconds !== undefined ? [`  max_queue_delay_microseconds: ${db.maxQueueDelayMicroseconds}`] : []),
    ];
    lines.push(`dynamic_batching {\n${body.join('\n')}${body.length > 0 ? '\n' : ''}}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Write `<repoDir>/<modelName>/1/model.onnx` and `<repoDir>/<modelName>/config.pbtxt`.
 *
 * @throws AekitError ALREADY_EXISTS (before writing anything) when either file exists and
 *   `force` is not set; BAD_ARGUMENT for a bad model name or batching options.
 */
export async function writeTritonRepository(
  repoDir: string,
  modelName: string,
  onnxBytes: Uint8Array,
  io: { inputs: TensorSpec[]; outputs: TensorSpec[] },
  opts: TritonOptions = {},
): Promise<TritonRepositoryPaths> {
  if (!/^[A-Za-z0-9_.-]+$/.test(modelName) || modelName === '.' || modelName === '..') {
    throw new AekitError('BAD_ARGUMENT', `Triton model name '${modelName}' must be letters, digits, '_', '.' or '-'`, { where: 'modelName' });
  }
  const config = renderTritonConfig(tritonConfig(modelName, io, opts));
  const modelDir = join(repoDir, modelName);
  const modelPath = join(modelDir, String(TRITON_MODEL_VERSION), 'model.onnx');
  const configPath = join(modelDir, 'config.pbtxt');
  if (!opts.force) {
    for (const path of [modelPath, configPath]) {
      const found = await stat(path).then(
        () => true,
        () => false,
      );
      if (found) throw new AekitError('ALREADY_EXISTS', 'refusing to overwrite an existing file; use force (--force) to replace it', { where: path });
    }
  }
  await writeOnnxAtomic(modelPath, onnxBytes, { force: opts.force });
  await writeFileAtomic(configPath, config, { force: opts.force });
  return { modelDir, modelPath, configPath };
}

// ---------------------------------------------------------------- text format parser

/** A value in protobuf text format: scalar (enums as their names) or nested message. */
type TextValue = string | number | TextMessage;
/** A message: every field maps to the list of its values (repeated fields have several). */
interface TextMessage {
  [field: string]: TextValue[];
}

type Token = { kind: 'punct' | 'string' | 'number' | 'ident'; text: string; line: number };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '\n') {
      line++;
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if ('{}[]:,;<>'.includes(c)) {
      tokens.push({ kind: 'punct', text: c === '<' ? '{' : c === '>' ? '}' : c, line });
      i++;
    } else if (c === '"' || c === "'") {
      let value = '';
      i++;
      while (i < text.length && text[i] !== c) {
        if (text[i] === '\\' && i + 1 < text.length) {
          const e = text[i + 1];
          value += e === 'n' ? '\n' : e === 't' ? '\t' : e;
          i += 2;
        } else {
          value += text[i++];
        }
      }
      if (i >= text.length) throw parseError(line, 'unterminated string');
      i++;
      tokens.push({ kind: 'string', text: value, line });
    } else {
      const match = /^(-?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+)|[A-Za-z_][A-Za-z0-9_.]*)/.exec(text.slice(i));
      if (!match) throw parseError(line, `unexpected character '${c}'`);
      tokens.push({ kind: /^[-\d.]/.test(match[0]) ? 'number' : 'ident', text: match[0], line });
      i += match[0].length;
    }
  }
  return tokens;
}

function parseError(line: number, message: string): AekitError {
  return new AekitError('BAD_DATA', `config.pbtxt line ${line}: ${message}`, { where: 'config.pbtxt' });
}

function parseMessage(tokens: Token[], start: number, closing: boolean): { message: TextMessage; next: number } {
  const message: TextMessage = {};
  let i = start;
  const add = (field: string, value: TextValue) => (message[field] ??= []).push(value);
  const scalar = (t: Token | undefined): TextValue => {
    if (!t || t.kind === 'punct') throw parseError(t?.line ?? 0, `expected a value, found '${t?.text ?? 'end of file'}'`);
    return t.kind === 'number' ? Number(t.text) : t.text;
  };
  const value = (at: number): { value: TextValue; next: number } => {
    if (tokens[at]?.text === '{') {
      const inner = parseMessage(tokens, at + 1, true);
      return { value: inner.message, next: inner.next };
    }
    return { value: scalar(tokens[at]), next: at + 1 };
  };
  while (i < tokens.length) {
    const t = tokens[i];
    if (t.text === '}' && t.kind === 'punct') {
      if (!closing) throw parseError(t.line, "unexpected '}'");
      return { message, next: i + 1 };
    }
    if (t.kind === 'punct' && (t.text === ',' || t.text === ';')) {
      i++;
      continue;
    }
    if (t.kind !== 'ident') throw parseError(t.line, `expected a field name, found '${t.text}'`);
    i++;
    if (tokens[i]?.text === ':') i++;
    if (tokens[i]?.text === '[') {
      i++;
      while (tokens[i] && tokens[i].text !== ']') {
        const v = value(i);
        add(t.text, v.value);
        i = v.next;
        if (tokens[i]?.text === ',') i++;
      }
      if (!tokens[i]) throw parseError(t.line, `unterminated list for '${t.text}'`);
      i++;
    } else {
      const v = value(i);
      add(t.text, v.value);
      i = v.next;
    }
  }
  if (closing) throw parseError(tokens[tokens.length - 1]?.line ?? 0, "missing '}'");
  return { message, next: i };
}

function field(message: TextMessage, name: string, where: string): TextValue | undefined {
  const values = message[name];
  if (values && values.length > 1) throw new AekitError('BAD_DATA', `field '${name}' appears ${values.length} times`, { where });
  return values?.[0];
}

function stringField(message: TextMessage, name: string, where: string): string | undefined {
  const v = field(message, name, where);
  if (v !== undefined && typeof v !== 'string') throw new AekitError('BAD_DATA', `field '${name}' should be a string`, { where });
  return v;
}

function numberList(message: TextMessage, name: string, where: string): number[] {
  return (message[name] ?? []).map((v) => {
    if (typeof v !== 'number') throw new AekitError('BAD_DATA', `field '${name}' should hold numbers`, { where });
    return v;
  });
}

function tensors(message: TextMessage, name: 'input' | 'output'): TritonTensorConfig[] {
  return (message[name] ?? []).map((v, i) => {
    const where = `config.pbtxt ${name}[${i}]`;
    if (typeof v !== 'object') throw new AekitError('BAD_DATA', `'${name}' entries should be messages`, { where });
    const tensorName = stringField(v, 'name', where);
    if (!tensorName) throw new AekitError('BAD_DATA', "missing field 'name'", { where });
    return { name: tensorName, dataType: stringField(v, 'data_type', where) ?? 'TYPE_INVALID', dims: numberList(v, 'dims', where) };
  });
}

/**
 * Parse a Triton `config.pbtxt` (protobuf text format) into the fields aekit uses.
 *
 * @throws AekitError BAD_DATA naming the line or field on malformed text.
 */
export function parseTritonConfig(text: string): TritonModelConfig {
  const { message } = parseMessage(tokenize(text), 0, false);
  const where = 'config.pbtxt';
  const name = stringField(message, 'name', where);
  if (!name) throw new AekitError('BAD_DATA', "missing field 'name'", { where });
  const maxBatch = field(message, 'max_batch_size', where) ?? 0;
  if (typeof maxBatch !== 'number') throw new AekitError('BAD_DATA', "field 'max_batch_size' should be a number", { where });
  const config: TritonModelConfig = {
    name,
    platform: stringField(message, 'platform', where),
    backend: stringField(message, 'backend', where),
    maxBatchSize: maxBatch,
    inputs: tensors(message, 'input'),
    outputs: tensors(message, 'output'),
  };
  const batching = field(message, 'dynamic_batching', where);
  if (batching !== undefined) {
    if (typeof batching !== 'object') throw new AekitError('BAD_DATA', "field 'dynamic_batching' should be a message", { where });
    const delay = field(batching, 'max_queue_delay_microseconds', where);
    config.dynamicBatching = {
      preferredBatchSize: numberList(batching, 'preferred_batch_size', where),
      maxQueueDelayMicroseconds: typeof delay === 'number' ? delay : undefined,
    };
  }
  return config;
}
