/**
 * Blobs in an S3-compatible bucket (AWS S3, MinIO, Ceph, s3rver) through @aws-sdk/client-s3.
 * A PUT is atomic on S3, so a small blob is one PutObject and a stream is one PutObject when it fits
 * in a part, else a multipart upload (aborted on failure) whose parts are uploaded while the next
 * is being filled. The SDK is loaded on first use so that filesystem-only users never pay for it.
 */
import { Readable } from 'node:stream';
import type * as S3 from '@aws-sdk/client-s3';
import { checkBlobName } from './backend.ts';
import type { BlobBackend, BlobRead, WriteOptions } from './backend.ts';
import { VaultError } from './errors.ts';

export interface S3BackendOptions {
  readonly bucket: string;
  /** Key prefix for every blob, e.g. "trainguard/vault/" (default none). */
  readonly prefix?: string;
  /** Endpoint URL for S3-compatible stores, e.g. "http://127.0.0.1:9000". */
  readonly endpoint?: string;
  /** Default "us-east-1". */
  readonly region?: string;
  /** Path-style URLs (bucket in the path), as most S3-compatible stores need. */
  readonly forcePathStyle?: boolean;
  /** Static credentials; without them the SDK's default chain (env, profile, instance role) applies. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
  /** Multipart part size in bytes, 5 MiB..512 MiB (default 8 MiB); two parts are held in memory. */
  readonly partSize?: number;
}

const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
const MIN_PART_SIZE = 5 * 1024 * 1024;
const MAX_PART_SIZE = 512 * 1024 * 1024;
const MAX_PARTS = 10_000;

type Sdk = typeof S3;

/** Connects to the bucket and checks it is reachable (VAULT_IO otherwise). */
export async function openS3Backend(options: S3BackendOptions): Promise<BlobBackend> {
  const partSize = options.partSize ?? DEFAULT_PART_SIZE;
  if (!Number.isSafeInteger(partSize) || partSize < MIN_PART_SIZE || partSize > MAX_PART_SIZE) {
    throw new VaultError('VAULT_BAD_INPUT', `S3 part size ${partSize} is outside ${MIN_PART_SIZE}..${MAX_PART_SIZE}`, { hint: 'S3 needs parts of at least 5 MiB' });
  }
  const prefix = options.prefix ?? '';
  if (prefix !== '' && !prefix.endsWith('/')) {
    throw new VaultError('VAULT_BAD_INPUT', `S3 prefix "${prefix}" must end with "/"`, { hint: `use "${prefix}/"` });
  }
  const sdk: Sdk = await import('@aws-sdk/client-s3');
  const client = new sdk.S3Client({
    region: options.region ?? 'us-east-1',
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.forcePathStyle === undefined ? {} : { forcePathStyle: options.forcePathStyle }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    // Objects authenticate themselves (AES-GCM per segment); the SDK's optional CRC checksums only
    // break older S3-compatible servers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const backend = new S3Backend(sdk, client, options.bucket, prefix, partSize);
  try {
    await client.send(new sdk.HeadBucketCommand({ Bucket: options.bucket }));
  } catch (err) {
    client.destroy();
    throw s3Error('opening bucket', backend.location, err);
  }
  return backend;
}

class S3Backend implements BlobBackend {
  readonly location: string;
  readonly #sdk: Sdk;
  readonly #client: S3.S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #partSize: number;

  constructor(sdk: Sdk, client: S3.S3Client, bucket: string, prefix: string, partSize: number) {
    this.#sdk = sdk;
    this.#client = client;
    this.#bucket = bucket;
    this.#prefix = prefix;
    this.#partSize = partSize;
    this.location = `s3://${bucket}/${prefix}`;
  }

  #key(name: string): string {
    checkBlobName(name);
    return this.#prefix + name;
  }

  async write(name: string, data: Uint8Array, options: WriteOptions = {}): Promise<boolean> {
    const Key = this.#key(name);
    try {
      // HEAD first for stores that ignore If-None-Match; If-None-Match closes the race where they honour it.
      if (options.ifAbsent === true && (await this.#exists(Key))) return false;
      await this.#client.send(
        new this.#sdk.PutObjectCommand({
          Bucket: this.#bucket,
          Key,
          Body: data,
          ContentLength: data.byteLength,
          ...(options.ifAbsent === true ? { IfNoneMatch: '*' } : {}),
        }),
      );
      return true;
    } catch (err) {
      if (options.ifAbsent === true && status(err) === 412) return false;
      throw s3Error('writing', name, err);
    }
  }

  async writeStream(name: string, source: AsyncIterable<Uint8Array>): Promise<void> {
    const Key = this.#key(name);
    const iterator = source[Symbol.asyncIterator]();
    let sourceFailed = false;
    const nextPart = async (): Promise<{ part: Buffer; done: boolean }> => {
      const chunks: Uint8Array[] = [];
      let bytes = 0;
      while (bytes < this.#partSize) {
        let step: IteratorResult<Uint8Array>;
        try {
          step = await iterator.next();
        } catch (err) {
          sourceFailed = true;
          throw err;
        }
        if (step.done === true) return { part: Buffer.concat(chunks, bytes), done: true };
        chunks.push(step.value);
        bytes += step.value.byteLength;
      }
      return { part: Buffer.concat(chunks, bytes), done: false };
    };

    let uploadId: string | undefined;
    try {
      let { part, done } = await nextPart();
      if (done) {
        await this.#client.send(new this.#sdk.PutObjectCommand({ Bucket: this.#bucket, Key, Body: part, ContentLength: part.byteLength }));
        return;
      }
      const created = await this.#client.send(new this.#sdk.CreateMultipartUploadCommand({ Bucket: this.#bucket, Key }));
      uploadId = created.UploadId;
      if (uploadId === undefined) throw new Error('CreateMultipartUpload returned no UploadId');
      const parts: S3.CompletedPart[] = [];
      let inFlight: Promise<void> = Promise.resolve();
      for (let n = 1; ; n++) {
        if (n > MAX_PARTS) {
          throw new VaultError('VAULT_BAD_INPUT', `${name} needs more than ${MAX_PARTS} parts of ${this.#partSize} bytes`, { hint: 'raise partSize' });
        }
        await inFlight;
        inFlight = this.#uploadPart(Key, uploadId, n, part).then((etag) => void parts.push({ PartNumber: n, ETag: etag }));
        inFlight.catch(() => undefined); // observed by the next await; never an unhandled rejection
        if (done) break;
        ({ part, done } = await nextPart());
        if (part.byteLength === 0 && done) break;
      }
      await inFlight;
      parts.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
      await this.#client.send(
        new this.#sdk.CompleteMultipartUploadCommand({ Bucket: this.#bucket, Key, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
      );
    } catch (err) {
      // Close the source too (it may hold a file, or the vault's hash workers).
      if (!sourceFailed) await iterator.return?.().catch(() => undefined);
      if (uploadId !== undefined) {
        await this.#client.send(new this.#sdk.AbortMultipartUploadCommand({ Bucket: this.#bucket, Key, UploadId: uploadId })).catch(() => undefined);
      }
      if (sourceFailed || err instanceof VaultError) throw err;
      throw s3Error('writing', name, err);
    }
  }

  async #uploadPart(Key: string, UploadId: string, PartNumber: number, Body: Buffer): Promise<string> {
    const out = await this.#client.send(
      new this.#sdk.UploadPartCommand({ Bucket: this.#bucket, Key, UploadId, PartNumber, Body, ContentLength: Body.byteLength }),
    );
    if (out.ETag === undefined) throw new Error(`UploadPart ${PartNumber} returned no ETag`);
    return out.ETag;
  }

  async read(name: string): Promise<Uint8Array | undefined> {
    const got = await this.readStream(name);
    if (got === undefined) return undefined;
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of got.stream) chunks.push(chunk as Buffer);
    } catch (err) {
      throw s3Error('reading', name, err);
    }
    return Buffer.concat(chunks);
  }

  async readStream(name: string): Promise<BlobRead | undefined> {
    const Key = this.#key(name);
    try {
      const out = await this.#client.send(new this.#sdk.GetObjectCommand({ Bucket: this.#bucket, Key }));
      if (!(out.Body instanceof Readable) || out.ContentLength === undefined) throw new Error('GetObject returned no stream or length');
      return { size: out.ContentLength, stream: out.Body };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw s3Error('reading', name, err);
    }
  }

  async delete(name: string): Promise<boolean> {
    const Key = this.#key(name);
    try {
      // DeleteObject succeeds on a missing key; HEAD tells the caller whether there was one.
      if (!(await this.#exists(Key))) return false;
      await this.#client.send(new this.#sdk.DeleteObjectCommand({ Bucket: this.#bucket, Key }));
      return true;
    } catch (err) {
      throw s3Error('deleting', name, err);
    }
  }

  async *list(prefix: string): AsyncGenerator<string> {
    const Prefix = `${this.#key(prefix)}/`;
    let ContinuationToken: string | undefined;
    do {
      let page: S3.ListObjectsV2CommandOutput;
      try {
        page = await this.#client.send(
          new this.#sdk.ListObjectsV2Command({ Bucket: this.#bucket, Prefix, ...(ContinuationToken === undefined ? {} : { ContinuationToken }) }),
        );
      } catch (err) {
        throw s3Error('listing', prefix, err);
      }
      for (const o of page.Contents ?? []) {
        if (o.Key !== undefined) yield o.Key.slice(this.#prefix.length);
      }
      ContinuationToken = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (ContinuationToken !== undefined);
  }

  async close(): Promise<void> {
    this.#client.destroy();
  }

  async #exists(Key: string): Promise<boolean> {
    try {
      await this.#client.send(new this.#sdk.HeadObjectCommand({ Bucket: this.#bucket, Key }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }
}

function status(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

function isNotFound(err: unknown): boolean {
  const name = (err as { name?: string } | undefined)?.name;
  return name === 'NoSuchKey' || name === 'NotFound' || status(err) === 404;
}

function s3Error(doing: string, name: string, cause: unknown): VaultError {
  if (cause instanceof VaultError) return cause;
  const code = (cause as { name?: string } | undefined)?.name ?? 'error';
  const http = status(cause);
  return new VaultError('VAULT_IO', `${doing} ${name} on S3 failed (${code}${http === undefined ? '' : `, HTTP ${http}`})`, {
    path: name,
    hint: 'check the endpoint, bucket, credentials and network',
    cause,
  });
}
