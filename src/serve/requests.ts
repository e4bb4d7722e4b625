/**
 * The JSON request bodies of the operations as zod schemas. One definition does two jobs: it
 * checks a body's structure (an object with known fields, latent rows of numbers, a list of
 * images, `n`/`seed`/`label` as whole numbers in range) and it is the request-body schema of
 * `/openapi.json` (`z.toJSONSchema`). What depends on the model (row sizes, the images' values and
 * value range, the row limit, the class count) is the codec's, which checks it row by row.
 *
 * A rejected body becomes a 400 whose message names the field (`z[0][1]`), what was expected and
 * what came: {@link checkBody} rewords zod's first issue with the model's numbers.
 */
import { z } from 'zod';
import { badField, HttpError } from './http-error';
import type { HttpErrorCode } from './http-error';
import type { LatentModel, ServedModel } from './models';
import { MAX_SEED } from '../artifact/prior';

/** A class label, or one per row (conditional models). */
const LabelSchema = z
  .union([z.int().min(0), z.array(z.int().min(0))])
  .meta({ description: 'Conditional models only: one class for every row, or one per row.' });

/** `POST /v1/models/{name}/decode`: latents -> images. */
export const DecodeRequestSchema = z.strictObject({
  z: z.array(z.array(z.number())).min(1).meta({ description: 'Rows of latentSize finite numbers.' }),
  label: LabelSchema.optional(),
});

/** `POST /v1/models/{name}/sample`: images from latents drawn from the model's prior. */
export const SampleRequestSchema = z.strictObject({
  n: z.int().min(1).meta({ description: 'How many images to sample (at most the server limit of rows per request).' }),
  seed: z.int().min(0).max(MAX_SEED).meta({ description: 'Random when left out; returned.' }).optional(),
  label: LabelSchema.optional(),
});

/**
 * `POST /v1/models/{name}/encode`, `/reconstruct` and `/classify`. An image's values are left to the codec:
 * images are the large bodies, and it checks each value once while copying it (and flattening a
 * nested image).
 */
export const ImagesRequestSchema = z.strictObject({
  images: z
    .array(z.array(z.unknown()))
    .min(1)
    .meta({ description: 'Each image a flat CHW list of channels*height*width numbers or nested [C][H][W] ([H][W] for one channel), in the model value range.' }),
  label: LabelSchema.optional(),
});

/** The request schemas by their name in the OpenAPI document's components. */
export const REQUEST_SCHEMAS = Object.freeze({
  DecodeRequest: DecodeRequestSchema,
  SampleRequest: SampleRequestSchema,
  ImagesRequest: ImagesRequestSchema,
});

/** A body that passed {@link DecodeRequestSchema}. */
export type DecodeRequest = z.output<typeof DecodeRequestSchema>;
/** A body that passed {@link SampleRequestSchema}. */
export type SampleRequest = z.output<typeof SampleRequestSchema>;
/** A body that passed {@link ImagesRequestSchema}. */
export type ImagesRequest = z.output<typeof ImagesRequestSchema>;

/** A short description of a JSON value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 20 ? `${value.slice(0, 20)}...` : value)}`;
  if (typeof value === 'number') return String(value);
  return typeof value;
}

/** 400 NOT_FINITE: JSON has no NaN/Infinity literals, but numbers beyond ~1.8e308 parse to Infinity. */
export function notFinite(where: string, value: number): HttpError {
  return badField('NOT_FINITE', where, `expected a finite number, got ${value} (the JSON number overflows float64)`);
}

type Issue = z.core.$ZodIssue;

/** How one field (or its rows, `z[]`, or their values, `z[][]`) is complained about. */
export interface FieldWords {
  /** The error code (default INVALID_BODY). */
  code?: HttpErrorCode;
  /** What a missing required field should have been (after 'missing; expected '). */
  missing?: string;
  /** The message for a value the schema refused. */
  wrong(value: unknown, issue: Issue): string;
}

/** The wording of one request's errors, with the model's numbers. */
export interface BodyWords {
  /** A valid body, shown when the body is not an object. */
  example: string;
  /** By field pattern: `z`, `z[]`, `label`, `label[]`, ... */
  fields: Record<string, FieldWords>;
}

/**
 * The body as `schema` parses it.
 * @throws HttpError 400 for the first fault, in the words of the request kind (`words`, built only on failure).
 */
export function checkBody<S extends z.ZodObject, M extends ServedModel>(schema: S, body: unknown, words: (model: M) => BodyWords, model: M): z.output<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  throw explain(result.error.issues, body, Object.keys(schema.shape), words(model));
}

function explain(issues: readonly Issue[], body: unknown, fields: string[], words: BodyWords): HttpError {
  // A fault of the body as a whole (not an object, an unknown field) says more than one inside it.
  let issue = issues.find((i) => i.path.length === 0) ?? issues[0];
  let path: PropertyKey[] = [...issue.path];
  // A union's issue holds each option's issues (paths relative to it): the deepest one is the option the value meant.
  while (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const inner = issue.errors.flat().reduce((a, b) => (b.path.length > a.path.length ? b : a));
    path = [...path, ...inner.path];
    issue = inner;
  }
  if (path.length === 0) {
    if (issue.code === 'unrecognized_keys') return badField('INVALID_BODY', issue.keys[0], `unknown field; expected: ${fields.join(', ')}`);
    return new HttpError(400, 'INVALID_BODY', `expected a JSON object like ${words.example}, got ${describe(body)}`);
  }
  const where = path.map((key, i) => (typeof key === 'number' ? `[${key}]` : i === 0 ? String(key) : `.${String(key)}`)).join('');
  const pattern = path.map((key) => (typeof key === 'number' ? '[]' : String(key))).join('');
  const value = path.reduce<unknown>((v, key) => (v as Record<PropertyKey, unknown> | undefined)?.[key], body);
  const field = words.fields[pattern];
  const code = field?.code ?? 'INVALID_BODY';
  if (value === undefined && path.length === 1) return badField(code, where, `missing; expected ${field?.missing ?? 'a value'}`);
  if (issue.code === 'too_small' && Array.isArray(value)) return badField(code, where, 'is empty; give at least one row');
  if (field) return badField(code, where, field.wrong(value, issue));
  if (typeof value === 'number' && !Number.isFinite(value)) return notFinite(where, value);
  if (Array.isArray(value)) return badField(code, where, `expected a number, got ${describe(value)}: the list is nested one level too deep; expected ${words.example}`);
  return badField(code, where, `expected a number, got ${describe(value)}`);
}

function labelWords(model: ServedModel): FieldWords {
  return {
    code: 'BAD_LABEL',
    wrong: (value) => {
      if (!model.conditional) return `model '${model.name}' is not conditional; leave out 'label'`;
      if (Number.isInteger(value)) return classOutside(value as number, model);
      return `expected a whole class number, got ${describe(value)}`;
    },
  };
}

/** The message for a class number outside the model's classes. */
export function classOutside(label: number, model: ServedModel): string {
  const classes = model.numClasses ?? 0;
  return `class ${label} is outside 0..${classes - 1} (model '${model.name}' has ${classes} classes)`;
}

const labelExample = (model: ServedModel) => (model.conditional ? ', "label": 3' : '');

/** Wording of {@link DecodeRequestSchema}'s faults. */
export function decodeWords(model: LatentModel): BodyWords {
  const size = model.latentSize;
  const label = labelWords(model);
  return {
    example: `{"z": [[${size} numbers]]${labelExample(model)}}`,
    fields: {
      z: { missing: `a list of latent rows of ${size} numbers`, wrong: (v) => `expected a list of rows (number[][]), got ${describe(v)}` },
      'z[]': { wrong: (v) => `expected a row of ${size} numbers, got ${describe(v)}${typeof v === 'number' ? ' (z is a list of rows: [[...]])' : ''}` },
      label,
      'label[]': label,
    },
  };
}

/** Wording of {@link SampleRequestSchema}'s faults. */
export function sampleWords(model: ServedModel): BodyWords {
  const label = labelWords(model);
  return {
    example: `{"n": 4, "seed": 0${labelExample(model)}}`,
    fields: {
      n: {
        missing: 'how many images to sample',
        wrong: (v, issue) => (issue.code === 'too_small' ? `expected at least 1, got ${describe(v)}` : `expected a whole number, got ${describe(v)}`),
      },
      seed: { wrong: (v) => `expected a whole number in 0..${MAX_SEED}, got ${describe(v)}` },
      label,
      'label[]': label,
    },
  };
}

/** Wording of {@link ImagesRequestSchema}'s faults. */
export function imagesWords(model: ServedModel): BodyWords {
  const { channels, height, width } = model.imageShape;
  const label = labelWords(model);
  return {
    example: `{"images": [[${channels * height * width} numbers]]${labelExample(model)}}`,
    fields: {
      images: { missing: `a list of ${channels}x${height}x${width} images`, wrong: (v) => `expected a list of images, got ${describe(v)}` },
      'images[]': {
        wrong: (v) => `expected an image (a list of numbers or nested lists), got ${describe(v)}${typeof v === 'number' ? `; images is a list of images: send one image as {"images": [[${channels * height * width} numbers]]}` : ''}`,
      },
      label,
      'label[]': label,
    },
  };
}
