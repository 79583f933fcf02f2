/**
 * The types of the API come from its JSON schemas, never written a second time: a Fastify type
 * provider turns a route's `as const` schemas into the type of its body, params and query, and
 * into the type its handler must answer with. Types only: nothing here exists at run time.
 */
import type { FastifyPluginAsync, FastifyTypeProvider, RawServerDefault } from 'fastify';
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import type { sharedSchemas } from './common-schemas.ts';

/**
 * Defaults in the schemas are documentation (Ajv runs with `useDefaults: false`), so a field
 * with a default is still optional in a request. `{ $ref: 'Offset#' }` is the schema registered
 * with that `$id` (common-schemas.ts).
 */
type Options = { keepDefaultedPropertiesOptional: true; references: [...typeof sharedSchemas] };

/**
 * A response schema without `additionalProperties: false` types as an object with
 * `[x: string]: unknown`, which no interface satisfies; the serializer drops unknown fields
 * anyway, so the answer type keeps only the named ones (maps such as `counts` stay maps).
 */
export type Named<T> = T extends readonly (infer U)[]
  ? Named<U>[]
  : T extends object
    ? { [K in keyof T as string extends K ? (unknown extends T[K] ? never : K) : K]: Named<T[K]> }
    : T;

/** What a schema accepts (a request) or what a handler must send (an answer). */
export type Request<S> = S extends JSONSchema ? FromSchema<S, Options> : unknown;
export type Answer<S> = S extends JSONSchema ? Named<FromSchema<S, Options>> : unknown;

export interface SchemaTypes extends FastifyTypeProvider {
  validator: Request<this['schema']>;
  serializer: Answer<this['schema']>;
}

/** A Fastify plugin whose routes are typed by their schemas. */
export type TypedPlugin<Options extends object> = FastifyPluginAsync<Options, RawServerDefault, SchemaTypes>;
