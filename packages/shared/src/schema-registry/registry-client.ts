/**
 * A small client of a Schema Registry's Confluent-compatible REST API: the one call the worker
 * needs, `GET {url}/schemas/ids/{id}` → `{ schema, schemaType, references }`.
 *
 * A schema id names one schema forever (registries never reuse or change an id), so answers
 * are cached without expiry, bounded by count (least recently used goes first). Lookups of one
 * id share one request. Two kinds of failure, kept apart because they mean different things
 * for a range:
 *  - the registry does not have the id (404): the record cannot be decoded, now or on a retry
 *    soon; the caller rejects that record ({@link SchemaRejection}); not cached, so a schema
 *    registered later is found.
 *  - the registry cannot be reached, or answers an error: nothing is wrong with the record;
 *    a retryable SLUICE_ERR_SCHEMA_REGISTRY, the range is tried again and its partition waits.
 *
 * A schema that names `references` (a .proto it imports, an Avro named type or a JSON Schema
 * `$ref` registered under another subject) is handed out with every schema it needs, fetched
 * before it is cached: each by `GET /subjects/{subject}/versions/{version}`, transitively,
 * each subject version once (cached as ids are: a version's schema never changes). A reference
 * the registry does not have, or a cycle of them, rejects the records of the schema (as an
 * unknown id does); an unreachable registry stays retryable.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ErrorCodes, SluiceError } from '../errors.ts';

export type SchemaType = 'AVRO' | 'JSON' | 'PROTOBUF';

export interface SchemaReference {
  name: string;
  subject: string;
  version: number;
}

/** A writer schema as the registry holds it. */
export interface RegisteredSchema {
  id: number;
  /** Absent in the answer means AVRO (the Confluent API's default). */
  schemaType: SchemaType;
  /** The schema's text: Avro JSON, a JSON Schema document, or a .proto file. */
  schema: string;
  references: SchemaReference[];
  /**
   * The schemas its references name, transitively, each subject version once, every one after
   * those it refers to (so parsing them in this order meets no unknown name). Absent or empty
   * for a schema without references.
   */
  resolved?: ResolvedReference[];
}

/** A schema named by a reference: its reference name (an import path, a type name, a `$ref`) and text. */
export interface ResolvedReference extends SchemaReference {
  schemaType: SchemaType;
  schema: string;
  /** Its own references (also in the list that holds it). */
  references: SchemaReference[];
}

/** Why a record's schema cannot be had: the record is rejected, its range goes on. */
export interface SchemaRejection {
  reject: string;
}

/** One HTTP GET as the client needs it: the status and the body's text. */
export type RegistryGet = (path: string) => Promise<{ status: number; body: string }>;

export interface SchemaRegistryClientOptions {
  /** Root of the Confluent-compatible API, without a trailing `/`. */
  url: string;
  username?: string;
  password?: string;
  /** PEM text of the CAs for an `https://` registry; Node's CAs when absent. */
  ca?: string;
  /** Per request. @defaultValue 10,000 */
  timeoutMs?: number;
  /** Schemas kept. @defaultValue 1,000 */
  maxCached?: number;
  /** Replaces the HTTP transport (tests). */
  get?: RegistryGet;
}

const SCHEMA_TYPES: readonly string[] = ['AVRO', 'JSON', 'PROTOBUF'];

/** A map that forgets its least recently used entry beyond `max` (schemas by id, by subject version). */
class Lru<K, V> {
  readonly #map = new Map<K, V>();
  readonly #max: number;
  constructor(max: number) {
    this.#max = max;
  }
  get(k: K): V | undefined {
    const hit = this.#map.get(k);
    if (hit !== undefined) {
      // Most recently used goes last: the first entry is the one to drop.
      this.#map.delete(k);
      this.#map.set(k, hit);
    }
    return hit;
  }
  set(k: K, v: V): void {
    this.#map.set(k, v);
    if (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next().value;
      if (oldest !== undefined) this.#map.delete(oldest);
    }
  }
}

/** References deeper than this are taken for a runaway chain. */
const MAX_REFERENCE_DEPTH = 32;

export class SchemaRegistryClient {
  readonly url: string;
  readonly #get: RegistryGet;
  readonly #cache: Lru<number, RegisteredSchema>;
  readonly #versions: Lru<string, ResolvedReference>;
  readonly #pending = new Map<number, Promise<RegisteredSchema | SchemaRejection>>();
  /** Requests sent so far (tests and metrics read it). */
  requests = 0;

  constructor(opts: SchemaRegistryClientOptions) {
    this.url = opts.url.replace(/\/+$/, '');
    this.#cache = new Lru(opts.maxCached ?? 1000);
    this.#versions = new Lru(opts.maxCached ?? 1000);
    this.#get = opts.get ?? httpGet(this.url, opts);
  }

  /** The cached schema of `id`, without asking the registry (the hot path of a range). */
  cached(id: number): RegisteredSchema | undefined {
    return this.#cache.get(id);
  }

  /**
   * The writer schema of `id` with the schemas its references name, a rejection when the
   * registry does not have it or one of those, or a retryable error.
   */
  async schemaById(id: number): Promise<RegisteredSchema | SchemaRejection> {
    const hit = this.cached(id);
    if (hit !== undefined) return hit;
    let pending = this.#pending.get(id);
    if (pending === undefined) {
      pending = this.#fetch(id).finally(() => this.#pending.delete(id));
      this.#pending.set(id, pending);
    }
    return pending;
  }

  async #fetch(id: number): Promise<RegisteredSchema | SchemaRejection> {
    const answer = await this.#ask(`/schemas/ids/${id}`, `schema id ${id}`);
    if (answer.status === 404) {
      return {
        reject: `schema id ${id} is not in the Schema Registry at ${this.url} (404: ${answer.body.slice(0, 200)})`,
      };
    }
    const schema = this.#parsed(`/schemas/ids/${id}`, answer.body);
    if (schema.references.length > 0) {
      const resolved = new Map<string, ResolvedReference>();
      const missing = await this.#resolve(schema.references, [], resolved);
      if (missing !== undefined) return { reject: `schema id ${id} ${missing}` };
      schema.resolved = [...resolved.values()];
    }
    const out: RegisteredSchema = { id, ...schema };
    this.#cache.set(id, out);
    return out;
  }

  /**
   * Fetches `refs` and theirs into `into` (dependencies first); says what is missing or
   * circular when the registry cannot give them all. `chain` is the path of subject versions
   * that led here.
   */
  async #resolve(
    refs: SchemaReference[],
    chain: Array<{ key: string; label: string }>,
    into: Map<string, ResolvedReference>,
  ): Promise<string | undefined> {
    for (const ref of refs) {
      if (typeof ref?.name !== 'string' || typeof ref.subject !== 'string' || !Number.isInteger(ref.version))
        return `names a reference without a name, subject and version: ${JSON.stringify(ref)}`;
      // "latest" (-1) could name another schema on a retry: a range's output must not change.
      if (ref.version < 1)
        return `refers to "${ref.name}" (subject ${ref.subject}) by version ${ref.version}, not a concrete version: a retry could resolve another schema; register the schema with references to concrete versions`;
      const key = `${ref.subject}\0${ref.version}`;
      const via = [...chain, { key, label: `"${ref.name}" (subject ${ref.subject} version ${ref.version})` }];
      const path = via.map((c) => c.label).join(' → ');
      if (chain.some((c) => c.key === key) || chain.length >= MAX_REFERENCE_DEPTH)
        return `has references that form a cycle: ${path}; a schema cannot contain itself`;
      if (into.has(key)) continue;
      let got = this.#versions.get(key);
      if (got === undefined) {
        const at = `/subjects/${encodeURIComponent(ref.subject)}/versions/${ref.version}`;
        const answer = await this.#ask(at, `reference ${path}`);
        if (answer.status === 404)
          return `refers to ${path}, which the Schema Registry at ${this.url} does not have (404: ${answer.body.slice(0, 200)}): register that subject version again, or produce with a schema whose references exist`;
        got = { ...ref, ...this.#parsed(at, answer.body) };
        this.#versions.set(key, got);
      }
      const deeper = await this.#resolve(got.references, via, into);
      if (deeper !== undefined) return deeper;
      into.set(key, got);
    }
    return undefined;
  }

  /** One GET; a registry that cannot be reached or answers neither 200 nor 404 is a retryable error. */
  async #ask(path: string, what: string): Promise<{ status: number; body: string }> {
    let answer: { status: number; body: string };
    this.requests++;
    try {
      answer = await this.#get(path);
    } catch (err) {
      const why = err instanceof Error ? ((err as { code?: string }).code ?? err.message) : String(err);
      throw new SluiceError(
        ErrorCodes.SCHEMA_REGISTRY,
        `cannot reach the Schema Registry at ${this.url} (${why}) for ${what}; check SLUICE_SCHEMA_REGISTRY_URL and that the registry runs: the range is retried`,
        { retryable: true, cause: err },
      );
    }
    if (answer.status !== 200 && answer.status !== 404) {
      const fix =
        answer.status === 401 || answer.status === 403
          ? 'check SLUICE_SCHEMA_REGISTRY_USERNAME and SLUICE_SCHEMA_REGISTRY_PASSWORD'
          : 'the range is retried';
      throw new SluiceError(
        ErrorCodes.SCHEMA_REGISTRY,
        `the Schema Registry at ${this.url} answered GET ${path} with HTTP ${answer.status} (${answer.body.slice(0, 200)}); ${fix}`,
        { retryable: true },
      );
    }
    return answer;
  }

  /** A 200 answer's schema, or a retryable error when it is not one. */
  #parsed(path: string, body: string): Omit<RegisteredSchema, 'id'> {
    const schema = parseSchemaAnswer(body);
    if (typeof schema === 'string') {
      throw new SluiceError(
        ErrorCodes.SCHEMA_REGISTRY,
        `the Schema Registry at ${this.url} answered GET ${path} with ${schema}; is SLUICE_SCHEMA_REGISTRY_URL the root of its Confluent-compatible API (Apicurio: …/apis/ccompat/v7)?`,
        { retryable: true },
      );
    }
    return schema;
  }
}

/** The answer of `GET /schemas/ids/{id}` (or of a subject version), or what is wrong with it. */
function parseSchemaAnswer(body: string): Omit<RegisteredSchema, 'id'> | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return `a body that is not JSON: ${body.slice(0, 100)}`;
  }
  const o = parsed as { schema?: unknown; schemaType?: unknown; references?: unknown };
  if (typeof o !== 'object' || o === null || typeof o.schema !== 'string') return 'no "schema" text';
  const schemaType = o.schemaType ?? 'AVRO';
  if (typeof schemaType !== 'string' || !SCHEMA_TYPES.includes(schemaType)) {
    return `an unknown schemaType ${JSON.stringify(schemaType)}`;
  }
  const references = Array.isArray(o.references) ? (o.references as SchemaReference[]) : [];
  return { schemaType: schemaType as SchemaType, schema: o.schema, references };
}

/** GET over node:http(s), with basic auth and a CA when set. */
function httpGet(root: string, opts: SchemaRegistryClientOptions): RegistryGet {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const auth =
    opts.username && opts.password
      ? `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString('base64')}`
      : undefined;
  return (path) =>
    new Promise((resolve, reject) => {
      const url = new URL(`${root}${path}`);
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(
        url,
        {
          method: 'GET',
          headers: {
            accept: 'application/vnd.schemaregistry.v1+json, application/json',
            ...(auth ? { authorization: auth } : {}),
          },
          ...(url.protocol === 'https:' && opts.ca ? { ca: opts.ca } : {}),
          timeout: timeoutMs,
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () =>
        req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })),
      );
      req.on('error', reject);
      req.end();
    });
}
