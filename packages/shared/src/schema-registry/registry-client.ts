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

export class SchemaRegistryClient {
  readonly url: string;
  readonly #get: RegistryGet;
  readonly #maxCached: number;
  readonly #cache = new Map<number, RegisteredSchema>();
  readonly #pending = new Map<number, Promise<RegisteredSchema | SchemaRejection>>();
  /** Requests sent so far (tests and metrics read it). */
  requests = 0;

  constructor(opts: SchemaRegistryClientOptions) {
    this.url = opts.url.replace(/\/+$/, '');
    this.#maxCached = opts.maxCached ?? 1000;
    this.#get = opts.get ?? httpGet(this.url, opts);
  }

  /** The cached schema of `id`, without asking the registry (the hot path of a range). */
  cached(id: number): RegisteredSchema | undefined {
    const hit = this.#cache.get(id);
    if (hit !== undefined) {
      // Most recently used goes last: the first entry is the one to drop.
      this.#cache.delete(id);
      this.#cache.set(id, hit);
    }
    return hit;
  }

  /** The writer schema of `id`, a rejection when the registry does not have it, or a retryable error. */
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
    const path = `/schemas/ids/${id}`;
    let answer: { status: number; body: string };
    this.requests++;
    try {
      answer = await this.#get(path);
    } catch (err) {
      const why = err instanceof Error ? ((err as { code?: string }).code ?? err.message) : String(err);
      throw new SluiceError(
        ErrorCodes.SCHEMA_REGISTRY,
        `cannot reach the Schema Registry at ${this.url} (${why}) for schema id ${id}; check SLUICE_SCHEMA_REGISTRY_URL and that the registry runs: the range is retried`,
        { retryable: true, cause: err },
      );
    }
    if (answer.status === 404) {
      return {
        reject: `schema id ${id} is not in the Schema Registry at ${this.url} (404: ${answer.body.slice(0, 200)})`,
      };
    }
    if (answer.status !== 200) {
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
    const schema = parseSchemaAnswer(id, answer.body);
    if (typeof schema === 'string') {
      throw new SluiceError(
        ErrorCodes.SCHEMA_REGISTRY,
        `the Schema Registry at ${this.url} answered GET ${path} with ${schema}; is SLUICE_SCHEMA_REGISTRY_URL the root of its Confluent-compatible API (Apicurio: …/apis/ccompat/v7)?`,
        { retryable: true },
      );
    }
    this.#cache.set(id, schema);
    if (this.#cache.size > this.#maxCached) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    return schema;
  }
}

/** The answer of `GET /schemas/ids/{id}`, or what is wrong with it. */
function parseSchemaAnswer(id: number, body: string): RegisteredSchema | string {
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
  return { id, schemaType: schemaType as SchemaType, schema: o.schema, references };
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
