/**
 * The v2 protocol's inference request as a zod schema (`$inference_request` of KServe's Open
 * Inference Protocol, with the parameters of Triton's binary tensor data extension), and the 400
 * a body that does not fit it gets: the field (`inputs[0].shape[1]`), what was expected, what came.
 * What depends on the model (tensor names, datatypes, shapes, values) is infer.ts's.
 */
import { z } from 'zod';
import { badField, HttpError } from '../http-error';
import { describe } from '../requests';

/** The protocol's tensor datatypes (its "Tensor Data Types" table). */
export const V2_DATATYPES = Object.freeze(['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'] as const);

/** `$parameters`: name -> string, number or boolean. */
const ParametersSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).meta({
  description: 'Parameters as name -> string, number or boolean. Read here: binary_data_output (request), binary_data_size (input), binary_data (output); others are ignored.',
});

/** `$request_input`. */
const RequestInputSchema = z.strictObject({
  name: z.string().meta({ description: "The input's name, as in the model metadata (and the Triton repository's config.pbtxt)." }),
  shape: z.array(z.int().min(0)).meta({ description: 'The whole batch: [rows, ...the input shape without its -1].' }),
  datatype: z.enum(V2_DATATYPES),
  parameters: ParametersSchema.optional(),
  data: z
    .array(z.unknown())
    .meta({ description: 'The values in row-major order, flat or nested; left out when parameters.binary_data_size says the values follow the JSON in binary (little-endian).' })
    .optional(),
});

/** `$request_output`. */
const RequestOutputSchema = z.strictObject({
  name: z.string(),
  parameters: ParametersSchema.optional(),
});

/** `POST /v2/models/{model_name}[/versions/{model_version}]/infer`. */
export const InferRequestSchema = z.strictObject({
  id: z.string().meta({ description: 'Returned in the response.' }).optional(),
  // Triton's binary-data example sends these; they must name the model of the URL when given.
  model_name: z.string().optional(),
  model_version: z.string().optional(),
  parameters: ParametersSchema.optional(),
  inputs: z.array(RequestInputSchema).min(1),
  outputs: z.array(RequestOutputSchema).meta({ description: 'The outputs to return (default: all).' }).optional(),
});

/** A body that passed {@link InferRequestSchema}. */
export type InferRequest = z.output<typeof InferRequestSchema>;

/** What each field should have been, by its path with list indices as `[]` and parameter names as `*`. */
const EXPECTED: Readonly<Record<string, string>> = Object.freeze({
  id: 'a string',
  model_name: 'a string',
  model_version: 'a string',
  parameters: 'an object of parameters (string, number or boolean values)',
  'parameters.*': 'a string, number or boolean',
  inputs: 'a list of input tensors',
  'inputs[]': 'a tensor object {"name", "shape", "datatype", "data"}',
  'inputs[].name': "the input's name (a string)",
  'inputs[].shape': 'a list of whole numbers (the dimensions, batch first)',
  'inputs[].shape[]': 'a whole number >= 0',
  'inputs[].datatype': `one of ${V2_DATATYPES.join(', ')}`,
  'inputs[].data': 'a list of numbers (row-major, flat or nested)',
  'inputs[].parameters': 'an object of parameters (string, number or boolean values)',
  'inputs[].parameters.*': 'a string, number or boolean',
  outputs: 'a list of requested outputs',
  'outputs[]': 'an output object {"name", "parameters"?}',
  'outputs[].name': "the output's name (a string)",
  'outputs[].parameters': 'an object of parameters (string, number or boolean values)',
  'outputs[].parameters.*': 'a string, number or boolean',
});

/** The fields of each object, for 'unknown field' messages. */
const FIELDS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  '': Object.keys(InferRequestSchema.shape),
  'inputs[]': Object.keys(RequestInputSchema.shape),
  'outputs[]': Object.keys(RequestOutputSchema.shape),
});

/** A path as messages write it: `inputs[0].shape[1]`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : i === 0 ? String(key) : `.${String(key)}`)).join('');
}

function pattern(path: readonly PropertyKey[]): string {
  return fieldPath(path.map((key) => (typeof key === 'number' ? -1 : key)))
    .replace(/\[-1\]/g, '[]')
    .replace(/(^|\.)parameters\..*$/, '$1parameters.*');
}

/**
 * The body as {@link InferRequestSchema} parses it.
 * @param example - a valid body for the model, for the message when the body is not an object
 * @throws HttpError 400 INVALID_BODY (NOT_FINITE for a number past float64) naming the first faulty field.
 */
export function checkInferRequest(body: unknown, example: () => string): InferRequest {
  const result = InferRequestSchema.safeParse(body);
  if (result.success) return result.data;
  const issues = result.error.issues;
  // A fault of an object as a whole (an unknown field) says more than one inside it.
  let issue = issues.reduce((a, b) => (b.path.length < a.path.length ? b : a));
  let path: PropertyKey[] = [...issue.path];
  // A union's issue holds each option's issues: the deepest one is the option the value meant.
  while (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const inner = issue.errors.flat().reduce((a, b) => (b.path.length > a.path.length ? b : a));
    path = [...path, ...inner.path];
    issue = inner;
  }
  const value = path.reduce<unknown>((v, key) => (v as Record<PropertyKey, unknown> | undefined)?.[key], body);
  if (issue.code === 'unrecognized_keys') {
    const where = fieldPath([...path, issue.keys[0]]);
    throw badField('INVALID_BODY', where, `unknown field; ${path.length === 0 ? 'an inference request' : 'this object'} has: ${FIELDS[pattern(path)]?.join(', ')}`);
  }
  if (path.length === 0) throw new HttpError(400, 'INVALID_BODY', `expected an inference request object like ${example()}, got ${describe(body)}`);
  const where = fieldPath(path);
  const expected = EXPECTED[pattern(path)] ?? 'another value';
  if (value === undefined) throw badField('INVALID_BODY', where, `missing; expected ${expected}`);
  if (typeof value === 'number' && !Number.isFinite(value)) throw badField('NOT_FINITE', where, `expected a finite number, got ${value} (the JSON number overflows float64)`);
  if (issue.code === 'too_small' && Array.isArray(value)) throw badField('INVALID_BODY', where, 'is empty; give at least one input tensor');
  throw badField('INVALID_BODY', where, `expected ${expected}, got ${describe(value)}`);
}
