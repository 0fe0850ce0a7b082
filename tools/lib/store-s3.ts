// The store in S3-compatible object storage (--root s3://bucket/prefix), through the
// official AWS SDK for JavaScript v3. Credentials and region come from the SDK's standard
// chain (environment, shared config/credentials profile, ...); `endpoint` points it at an
// S3-compatible store (MinIO, Cloudflare R2, DigitalOcean Spaces, Garage), `pathStyle`
// addresses buckets as endpoint/bucket/key.
//
// Never overwriting a published object: putIfAbsent checks first (HEAD), then PUTs with
// If-None-Match: * , which a store with conditional writes (AWS S3 since 2024-08, MinIO,
// R2) enforces atomically (412). A store that ignores the header leaves only the check,
// so two publishers racing on one key could both write; the project lock (store-lock.ts)
// keeps this tool's own publishers apart. A store that rejects the header (501) is then
// written with the check alone.
//
// Each object gets Cache-Control and Content-Type by what it is (s3Headers), and an exact
// Content-Length and Content-MD5 (the store refuses a body that arrived damaged).
import { createHash } from "node:crypto";
import {
  S3Client, PutObjectCommand, GetObjectCommand, HeadObjectCommand, DeleteObjectCommand, ListObjectsV2Command,
  type PutObjectCommandInput,
} from "@aws-sdk/client-s3";
import { E_EXISTS, E_MISSING, E_OPTS, E_STORE } from "../../modules/formats.ts";
import { fail, OtaError } from "./errors.ts";
import { relPathError } from "./paths.ts";
import { DEFAULT_VERSION_MAX_AGE, type ObjectKind, type Store, type StoreOptions, type StoredObject } from "./store.ts";

// Release files are named by their version and never change: cached for a year. The
// manifest may be replaced (rollback --key re-signs it with a new seq), so caches must
// revalidate it; a board fetches it only when it updates, so that costs little. The
// version object is the fleet's one switch: its max-age bounds how long a new release or
// a rollback takes to reach every board behind a cache.
export function s3Headers(kind: ObjectKind, versionMaxAge = DEFAULT_VERSION_MAX_AGE): { CacheControl: string; ContentType: string } {
  switch (kind) {
    case "file": return { CacheControl: "public, max-age=31536000, immutable", ContentType: "application/octet-stream" };
    case "manifest": return { CacheControl: "no-cache", ContentType: "application/octet-stream" };
    case "version": return { CacheControl: `public, max-age=${versionMaxAge}`, ContentType: "text/plain; charset=utf-8" };
    case "lock": return { CacheControl: "no-store", ContentType: "application/json" };
  }
}

export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m || !/^[A-Za-z0-9._-]+$/.test(m[1])) fail(E_OPTS, `"${url}" is not s3://bucket[/prefix]`);
  const prefix = m[2].replace(/\/+$/, "");
  const err = prefix ? relPathError(prefix) : "";
  if (err) fail(E_OPTS, `the prefix of "${url}" ${err}`);
  return { bucket: m[1], prefix };
}

const statusOf = (e: any): number | undefined => e?.$metadata?.httpStatusCode;
const notFound = (e: any) => statusOf(e) == 404 && e?.name != "NoSuchBucket";

// The SDK's error as one of ours, saying what to do.
function storeError(e: any, what: string): OtaError {
  if (e instanceof OtaError) return e;
  const name = e?.name ?? "Error";
  const msg = e?.message ?? String(e);
  if (/Region is missing/i.test(msg)) return new OtaError(E_OPTS, `${what}: no AWS region: set AWS_REGION, or region in your AWS profile (S3-compatible stores take us-east-1, R2 takes auto)`);
  if (name == "NoSuchBucket") return new OtaError(E_MISSING, `${what}: the bucket does not exist; create it first (or check --root)`);
  if (name == "CredentialsProviderError" || /credentials/i.test(msg) && statusOf(e) === undefined) {
    return new OtaError(E_STORE, `${what}: no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (${msg})`);
  }
  const status = statusOf(e);
  return new OtaError(E_STORE, `${what}: ${name}${status ? ` (HTTP ${status})` : ""}: ${msg}`);
}

class S3Store implements Store {
  readonly url: string;
  private conditional = true; // send If-None-Match: * until the store says it cannot

  constructor(private client: S3Client, private bucket: string, private prefix: string, private versionMaxAge: number) {
    this.url = `s3://${bucket}${prefix ? "/" + prefix : ""}`;
  }

  private objectKey(key: string): string {
    const err = relPathError(key);
    if (err) fail(E_OPTS, `key "${key}" ${err}`);
    return this.prefix ? this.prefix + "/" + key : key;
  }

  where(key: string): string {
    return `s3://${this.bucket}/${this.objectKey(key)}`;
  }

  async list(dir: string): Promise<StoredObject[]> {
    const start = this.objectKey(dir) + "/";
    const strip = this.prefix ? this.prefix.length + 1 : 0;
    const out: StoredObject[] = [];
    let token: string | undefined;
    do {
      let r;
      try {
        r = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: start, ContinuationToken: token }));
      } catch (e) {
        throw storeError(e, `listing ${this.url}/${dir}/`);
      }
      for (const o of r.Contents ?? []) {
        if (o.Key && o.Key.startsWith(start)) out.push({ key: o.Key.slice(strip), size: o.Size ?? 0, modified: o.LastModified ?? new Date(0), regular: true });
      }
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async read(key: string): Promise<Buffer | undefined> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      return Buffer.from(await r.Body!.transformToByteArray());
    } catch (e: any) {
      if (e?.name == "NoSuchKey" || notFound(e)) return undefined;
      throw storeError(e, `reading ${this.where(key)}`);
    }
  }

  async stat(key: string): Promise<StoredObject | undefined> {
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      return { key, size: r.ContentLength ?? 0, modified: r.LastModified ?? new Date(0), regular: true };
    } catch (e: any) {
      if (notFound(e)) return undefined;
      throw storeError(e, `checking ${this.where(key)}`);
    }
  }

  private input(key: string, body: Buffer, kind: ObjectKind): PutObjectCommandInput {
    return {
      Bucket: this.bucket, Key: this.objectKey(key), Body: body,
      ContentLength: body.length, ContentMD5: createHash("md5").update(body).digest("base64"),
      ...s3Headers(kind, this.versionMaxAge),
    };
  }

  async putIfAbsent(key: string, body: Buffer, kind: ObjectKind): Promise<void> {
    if (await this.stat(key)) fail(E_EXISTS, `${this.where(key)} already exists`);
    try {
      await this.client.send(new PutObjectCommand({ ...this.input(key, body, kind), IfNoneMatch: this.conditional ? "*" : undefined }));
    } catch (e: any) {
      const status = statusOf(e);
      if (status == 412 || status == 409) {
        // The SDK retries a put whose answer was lost: a 412 may then be our own object.
        const h = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) })).catch(() => undefined);
        if (h?.ETag == `"${createHash("md5").update(body).digest("hex")}"`) return;
        fail(E_EXISTS, `${this.where(key)} was written by someone else meanwhile`);
      }
      if (this.conditional && (status == 501 || e?.name == "NotImplemented")) {
        this.conditional = false; // the check above is all this store allows
        return this.putIfAbsent(key, body, kind);
      }
      throw storeError(e, `writing ${this.where(key)}`);
    }
  }

  async put(key: string, body: Buffer, kind: ObjectKind): Promise<void> {
    try {
      await this.client.send(new PutObjectCommand(this.input(key, body, kind)));
    } catch (e) {
      throw storeError(e, `writing ${this.where(key)}`);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
    } catch (e: any) {
      if (notFound(e)) return;
      throw storeError(e, `deleting ${this.where(key)}`);
    }
  }

  async removeDir(): Promise<void> {} // object stores have no folders

  async sweep(): Promise<string[]> {
    return []; // a PUT is whole or nothing: an interrupted one leaves no object
  }
}

export function openS3Store(url: string, opts: StoreOptions = {}): Store {
  const { bucket, prefix } = parseS3Url(url);
  const maxAge = opts.versionMaxAge ?? DEFAULT_VERSION_MAX_AGE;
  if (!Number.isInteger(maxAge) || maxAge < 0) fail(E_OPTS, `the version max-age must be a whole number of seconds, not ${maxAge}`);
  if (opts.endpoint !== undefined && !/^https?:\/\/[^/]+/.test(opts.endpoint)) fail(E_OPTS, `endpoint "${opts.endpoint}" is not an http:// or https:// URL`);
  // The SDK warns on every run that its releases from 2027 need Node 22; this project pins
  // Node 20 and an SDK release that supports it (package.json), so the warning is noise.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const client = new S3Client({
    endpoint: opts.endpoint,
    forcePathStyle: opts.pathStyle ?? false,
    // Only the checksums a request needs: many S3-compatible stores reject the SDK's
    // newer default (CRC32 trailers); Content-MD5 covers the body instead.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  return new S3Store(client, bucket, prefix, maxAge);
}
