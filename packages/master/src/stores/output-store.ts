/**
 * The master's reads (and few writes) of a topic's output in S3: listings, object sizes,
 * commit records, and the `_SUCCESS` markers of the finalizer. What the audit, the finalizer
 * and the replay planner need, behind one small class over the shared S3 requests
 * (packages/shared/src/s3/), which turn S3 failures into SluiceErrors that say what to check.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import {
  type CommitRecord,
  createS3Client,
  errorText,
  type ListedKey,
  listFolders,
  listKeys,
  type MasterConfig,
  mapLimit,
  objectSize,
  objectText,
  putJson,
} from '@sluice/shared';
import type { FastifyInstance } from 'fastify';
import type { ListedCommit } from '../integrity/audit.ts';

export class OutputStore {
  readonly #s3: S3Client;
  /** Send `If-None-Match: *` where a write must not replace (SLUICE_S3_CONDITIONAL_WRITES). */
  readonly #conditional: boolean;

  constructor(s3: S3Client, opts: { conditionalWrites: boolean }) {
    this.#s3 = s3;
    this.#conditional = opts.conditionalWrites;
  }

  get s3(): S3Client {
    return this.#s3;
  }

  /** Keys below `prefix` in lexical order, after `startAfter`, at most `limit` (all when omitted). */
  list(
    bucket: string,
    prefix: string,
    opts: { startAfter?: string; limit?: number } = {},
  ): Promise<ListedKey[]> {
    return listKeys(this.#s3, bucket, prefix, opts);
  }

  /** The folders directly below `prefix` (ending with `/`, or empty), each ending with `/`. */
  folders(bucket: string, prefix: string): Promise<string[]> {
    return listFolders(this.#s3, bucket, prefix);
  }

  /** The object's size, or null when it does not exist. */
  size(bucket: string, key: string): Promise<number | null> {
    return objectSize(this.#s3, bucket, key);
  }

  /** The object's text, or null when it does not exist. */
  text(bucket: string, key: string): Promise<string | null> {
    return objectText(this.#s3, bucket, key);
  }

  /** A commit record; `record: null` with the reason when it is missing or not JSON. */
  async commit(bucket: string, key: string): Promise<ListedCommit> {
    const text = await this.text(bucket, key);
    if (text === null) return { key, record: null, error: 'vanished while being read' };
    try {
      return { key, record: JSON.parse(text) as CommitRecord };
    } catch (err) {
      return { key, record: null, error: `not JSON (${errorText(err)})` };
    }
  }

  /** Reads commit records, `concurrency` at once. */
  commits(bucket: string, keys: readonly string[], concurrency = 8): Promise<ListedCommit[]> {
    return mapLimit(keys, concurrency, (k) => this.commit(bucket, k));
  }

  /**
   * Writes a small JSON object. `create`: only when the key does not exist (If-None-Match,
   * or a HEAD first when the server has no conditional writes); returns false when it exists.
   */
  putJson(bucket: string, key: string, value: unknown, mode: 'create' | 'replace'): Promise<boolean> {
    return putJson(this.#s3, bucket, key, value, {
      create: mode === 'create',
      conditionalWrites: this.#conditional,
    });
  }
}

/**
 * For a route plugin: the store, made on first use (most masters never serve these routes)
 * and closed with the server.
 */
export function lazyOutputStore(app: FastifyInstance, config: MasterConfig): () => OutputStore {
  let store: OutputStore | null = null;
  app.addHook('onClose', async () => store?.s3.destroy());
  return () => {
    store ??= new OutputStore(createS3Client(config), { conditionalWrites: config.s3.conditionalWrites });
    return store;
  };
}
