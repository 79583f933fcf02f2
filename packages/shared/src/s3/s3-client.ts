/**
 * The S3 client of both programs, configured from the validated settings. Requests go
 * through s3-requests.ts (and the worker's streamed uploads); failures mean what
 * s3-errors.ts says.
 */
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import type { CommonConfig } from '../config.ts';

/**
 * The SDK's client, made at the first request rather than at start: loading
 * @aws-sdk/client-s3 costs about 0.08 CPU s, which a master that asks S3 nothing (a standby,
 * a leader before its first topic) need not pay (issue 14). Sluice calls only `send` and
 * `destroy` on its clients; the settings were validated before (config.ts), so an S3 setting
 * the client could refuse fails the start as it did.
 */
class FirstUseS3Client {
  readonly #config: S3ClientConfig;
  #client: Promise<S3Client> | undefined;
  #made: S3Client | undefined;
  #destroyed = false;

  constructor(config: S3ClientConfig) {
    this.#config = config;
  }

  send(...args: Parameters<S3Client['send']>): Promise<unknown> {
    this.#client ??= import('./s3-sdk.ts').then(({ S3Client }) => {
      this.#made = new S3Client(this.#config);
      if (this.#destroyed) this.#made.destroy();
      return this.#made;
    });
    return this.#client.then((c) => Reflect.apply(c.send, c, args) as Promise<unknown>);
  }

  destroy(): void {
    this.#destroyed = true;
    this.#made?.destroy();
  }
}

/**
 * An S3 client. Checksums are only sent where the API requires them: @aws-sdk/client-s3
 * newer than 3.729 adds them to every request by default, which many S3-compatible servers
 * reject. Retries use the SDK's standard mode (exponential backoff with jitter).
 */
export function createS3Client(cfg: Pick<CommonConfig, 's3'>): S3Client {
  const client = new FirstUseS3Client({
    region: cfg.s3.region,
    ...(cfg.s3.endpoint ? { endpoint: cfg.s3.endpoint } : {}),
    forcePathStyle: cfg.s3.forcePathStyle,
    maxAttempts: cfg.s3.maxAttempts,
    retryMode: 'standard',
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  // Typed as the SDK's client: every caller uses only what FirstUseS3Client has.
  return client as unknown as S3Client;
}
