/**
 * Turns Ajv's schema errors into problems a person can act on: the field's dotted path and
 * what it must be (`maxRangeBytes: must be an integer, got the string "100"`), never a JSON
 * pointer or a schema path. Pure; Fastify calls {@link schemaErrorFormatter} after a failed
 * validation, and the error handler answers with the problems it carries.
 *
 * The body validator runs with `allErrors` and `verbose`, so every problem of a request is
 * reported at once and each error carries the offending value and its schema.
 */
import { OFFSET_PATTERN, offsetProblem, type Problem, ValidationError } from '@sluice/shared';

/** The fields of an Ajv `ErrorObject` this file reads (`data`/`parentSchema` with `verbose`). */
export interface SchemaError {
  keyword: string;
  instancePath: string;
  /** Where in the schema the rule failed (`#/properties/startFrom/anyOf/1/required`). */
  schemaPath?: string;
  params: Record<string, unknown>;
  message?: string;
  data?: unknown;
  parentSchema?: unknown;
}

type SchemaObject = Record<string, unknown>;

const TYPE_NAMES: Record<string, string> = {
  integer: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'a boolean (true or false)',
  object: 'an object',
  array: 'an array',
  null: 'null',
};

/** `/destination/bucket` → `destination.bucket`; `/items/0` → `items[0]`. */
export function fieldPath(instancePath: string): string {
  if (instancePath === '') return '';
  return instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '');
}

function join(base: string, field: string): string {
  return base ? `${base}.${field}` : field;
}

/** A short, safe description of a rejected value. */
function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return `the string ${JSON.stringify(shown)}`;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'an array';
  return 'an object';
}

function typeName(type: unknown): string {
  const types = Array.isArray(type) ? type : [type];
  return types.map((t) => TYPE_NAMES[String(t)] ?? String(t)).join(' or ');
}

function asObject(v: unknown): SchemaObject | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as SchemaObject) : undefined;
}

function knownFields(parentSchema: unknown): string[] {
  return Object.keys(asObject(asObject(parentSchema)?.properties) ?? {});
}

/** Tag values a discriminated `oneOf` accepts (`const` or `enum` of the tag in each branch). */
function discriminatorValues(parentSchema: unknown, tag: string): string[] {
  const branches = asObject(parentSchema)?.oneOf;
  if (!Array.isArray(branches)) return [];
  const out: string[] = [];
  for (const b of branches) {
    const t = asObject(asObject(asObject(b)?.properties)?.[tag]);
    if (t?.const !== undefined) out.push(String(t.const));
    if (Array.isArray(t?.enum)) out.push(...t.enum.map(String));
  }
  return out;
}

function one(err: SchemaError, context: string): Problem {
  const base = fieldPath(err.instancePath);
  const p = err.params;
  const got = 'data' in err ? `, got ${describe(err.data)}` : '';
  const whole = base || context;
  switch (err.keyword) {
    case 'type':
      if (base === '' && context === 'body') {
        return {
          path: 'body',
          message: `must be a JSON object sent with Content-Type: application/json${got}`,
        };
      }
      return { path: whole, message: `must be ${typeName(p.type)}${got}` };
    case 'additionalProperties': {
      const field = String(p.additionalProperty);
      const known = knownFields(err.parentSchema);
      return {
        path: join(base, field),
        message: known.length
          ? `is not a known field; known fields are ${known.join(', ')}`
          : 'is not a known field; no fields are accepted here',
      };
    }
    case 'required':
      return { path: join(base, String(p.missingProperty)), message: 'is required' };
    case 'enum':
      return {
        path: whole,
        message: `must be one of ${(p.allowedValues as unknown[]).map(String).join(', ')}${got}`,
      };
    case 'const':
      return { path: whole, message: `must be ${JSON.stringify(p.allowedValue)}${got}` };
    case 'minimum':
      return { path: whole, message: `must be at least ${p.limit}${got}` };
    case 'maximum':
      return { path: whole, message: `must be at most ${p.limit}${got}` };
    case 'exclusiveMinimum':
      return { path: whole, message: `must be greater than ${p.limit}${got}` };
    case 'exclusiveMaximum':
      return { path: whole, message: `must be less than ${p.limit}${got}` };
    case 'minLength':
      return {
        path: whole,
        message: p.limit === 1 ? 'must not be empty' : `must be at least ${p.limit} characters long`,
      };
    case 'maxLength':
      return { path: whole, message: `must be at most ${p.limit} characters long` };
    case 'pattern':
      // An offset field says its range in words, as the routes' own check does (no regex).
      if (p.pattern === OFFSET_PATTERN) {
        return { path: whole, message: offsetProblem(typeof err.data === 'string' ? err.data : '') ?? '' };
      }
      return { path: whole, message: `must match the pattern ${p.pattern}${got}` };
    case 'format':
      return { path: whole, message: `must be a valid ${p.format}${got}` };
    case 'minProperties':
      return {
        path: whole,
        message: `must have at least ${p.limit} field${p.limit === 1 ? '' : 's'}; known fields are ${knownFields(err.parentSchema).join(', ')}`,
      };
    case 'discriminator': {
      const tag = String(p.tag);
      if (p.error === 'mapping') {
        const values = discriminatorValues(err.parentSchema, tag);
        return {
          path: join(base, tag),
          message: `must be one of ${values.join(', ')}, got ${describe(p.tagValue)}`,
        };
      }
      return { path: join(base, tag), message: 'is required and must be a string' };
    }
    case 'oneOf':
    case 'anyOf': {
      const shapes = shapesOf(err.parentSchema, err.keyword);
      return {
        path: whole,
        message: shapes.length
          ? `must be ${shapes.join(', or ')}${got}`
          : 'does not match any of the accepted shapes',
      };
    }
    default:
      return { path: whole, message: err.message ?? `fails the "${err.keyword}" rule` };
  }
}

/** The branches of an `anyOf`/`oneOf` in words: `"earliest"`, `an object with "offsets"`, … */
function shapesOf(parentSchema: unknown, keyword: string): string[] {
  const branches = asObject(parentSchema)?.[keyword];
  if (!Array.isArray(branches)) return [];
  return branches.flatMap((b) => {
    const branch = asObject(b);
    if (Array.isArray(branch?.enum)) return branch.enum.map((v) => JSON.stringify(v));
    const required = branch?.required;
    if (Array.isArray(required) && required.length > 0) {
      return [`an object with ${required.map((r) => JSON.stringify(r)).join(' and ')}`];
    }
    return branch?.type ? [typeName(branch.type)] : [];
  });
}

/**
 * Ajv reports an `anyOf` that failed together with the failure of every branch, most of them
 * beside the point. When the value is an object holding all the required fields of exactly one
 * branch, that branch is what was meant: its errors are kept and the others dropped. Otherwise
 * only the `anyOf` error is kept, which lists the accepted shapes.
 */
function focusAlternatives(errors: readonly SchemaError[]): SchemaError[] {
  let out = [...errors];
  for (const alt of errors) {
    if ((alt.keyword !== 'anyOf' && alt.keyword !== 'oneOf') || !alt.schemaPath) continue;
    const root = `${alt.schemaPath}/`;
    const branches = asObject(alt.parentSchema)?.[alt.keyword];
    const data = asObject(alt.data);
    let meant = -1;
    if (Array.isArray(branches) && data) {
      const matching = branches
        .map((b, i) => {
          const required = asObject(b)?.required;
          return Array.isArray(required) && required.length > 0 && required.every((r) => String(r) in data)
            ? i
            : -1;
        })
        .filter((i) => i >= 0);
      if (matching.length === 1) meant = matching[0]!;
    }
    out = out.filter((e) => {
      if (e === alt) return meant < 0;
      if (!e.schemaPath?.startsWith(root)) return true;
      return meant >= 0 && e.schemaPath.startsWith(`${root}${meant}/`);
    });
  }
  return out;
}

/**
 * Problems of one failed validation. `context` is Fastify's `dataVar`: `body`, `params`,
 * `querystring` or `headers`; fields outside the body carry it as a prefix (`params.topic`).
 */
export function validationProblems(errors: readonly SchemaError[], context: string): Problem[] {
  const out: Problem[] = [];
  const seen = new Set<string>();
  for (const e of focusAlternatives(errors)) {
    const p = one(e, context);
    const path = context === 'body' || p.path === context ? p.path : `${context}.${p.path}`;
    const key = `${path}\u0000${p.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ path, message: p.message });
  }
  return out;
}

/** Fastify's `schemaErrorFormatter`: a {@link ValidationError} listing every problem. */
export function schemaErrorFormatter(errors: readonly SchemaError[], dataVar: string): Error {
  return new ValidationError(validationProblems(errors, dataVar));
}
