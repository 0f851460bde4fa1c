// Results in an S3-compatible bucket (`deno task worker --results s3://bucket/prefix`): workers put each image's
// PNG and infotext there and the job's result names them, so Redis carries keys, not image bytes; the server
// fetches them. Endpoint and credentials come from the usual variables (AWS_ENDPOINT_URL for MinIO, Ceph, R2,
// …; AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION). Requests are signed with
// aws4fetch: one small dependency-free file of SigV4 over fetch, instead of the AWS SDK's hundreds of modules.
import { AwsClient } from "aws4fetch";

export class ResultsConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ResultsConfigError";
  }
}

/** Where results go: a bucket and a key prefix (no leading or trailing slash; may be empty). */
export interface S3Location {
  bucket: string;
  prefix: string;
}

/** s3://bucket[/prefix], checked (S3's bucket naming: 3-63 of a-z, 0-9, '.', '-'). */
export function parseS3Url(url: string): S3Location {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(url);
  if (!m) throw new ResultsConfigError(`--results must be s3://bucket[/prefix], got ${JSON.stringify(url)}`);
  const [, bucket, rest = ""] = m;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new ResultsConfigError(`--results: ${JSON.stringify(bucket)} is not a valid S3 bucket name`);
  }
  const prefix = rest.replace(/^\/+|\/+$/g, "");
  if (prefix !== "" && prefix.split("/").some((s) => s === "" || s === "." || s === "..")) {
    throw new ResultsConfigError(`--results: the prefix ${JSON.stringify(rest)} has an empty, . or .. part`);
  }
  return { bucket, prefix };
}

export interface S3Config {
  /** Path-style base URL (an S3-compatible server's), or undefined for AWS itself (virtual-hosted buckets). */
  endpoint?: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** The S3 settings from the environment, as the AWS tools read them; missing credentials are said by name. */
export function s3ConfigFromEnv(env: Record<string, string | undefined> = Deno.env.toObject()): S3Config {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new ResultsConfigError(
      "S3 results need credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY " +
        "(and AWS_ENDPOINT_URL for a server that is not AWS)",
    );
  }
  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
  if (endpoint !== undefined) {
    let u: URL;
    try {
      u = new URL(endpoint);
    } catch {
      throw new ResultsConfigError(
        `AWS_ENDPOINT_URL must be an http(s) URL, got ${JSON.stringify(endpoint)}`,
      );
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") {
      throw new ResultsConfigError(
        `AWS_ENDPOINT_URL must be an http(s) URL, got ${JSON.stringify(endpoint)}`,
      );
    }
  }
  return {
    endpoint: endpoint?.replace(/\/+$/, ""),
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || "us-east-1",
    accessKeyId,
    secretAccessKey,
    sessionToken: env.AWS_SESSION_TOKEN || undefined,
  };
}

/** Each key segment percent-encoded (aws4fetch signs the path as it is sent). */
const encodeKey = (key: string) => key.split("/").map(encodeURIComponent).join("/");

/** "s3://bucket/key" of an object, and back. */
export function objectUrl(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

export function parseObjectUrl(url: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
  if (!m) throw new ResultsConfigError(`not an S3 object URL: ${JSON.stringify(url)}`);
  return { bucket: m[1], key: m[2] };
}

export class S3Error extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
    this.name = "S3Error";
  }
}

/** PUT and GET of whole objects, signed with SigV4. */
export class S3Client {
  readonly #aws: AwsClient;

  constructor(readonly config: S3Config) {
    this.#aws = new AwsClient({
      accessKeyId: config.accessKeyId,
      secretAccessKey: config.secretAccessKey,
      sessionToken: config.sessionToken,
      service: "s3",
      region: config.region,
      retries: 3,
    });
  }

  #url(bucket: string, key: string): string {
    const { endpoint, region } = this.config;
    return endpoint
      ? `${endpoint}/${bucket}/${encodeKey(key)}`
      : `https://${bucket}.s3.${region}.amazonaws.com/${encodeKey(key)}`;
  }

  async #send(method: string, bucket: string, key: string, init: RequestInit = {}): Promise<Response> {
    let r: Response;
    try {
      r = await this.#aws.fetch(this.#url(bucket, key), { ...init, method });
    } catch (e) {
      throw new S3Error(`S3 ${method} s3://${bucket}/${key}: ${(e as Error).message}`, 0);
    }
    if (!r.ok) {
      const body = await r.text();
      const code = /<Code>([^<]+)<\/Code>/.exec(body)?.[1] ?? r.statusText;
      throw new S3Error(`S3 ${method} s3://${bucket}/${key}: ${r.status} ${code}`, r.status);
    }
    return r;
  }

  async put(bucket: string, key: string, body: Uint8Array | string, contentType: string): Promise<void> {
    const r = await this.#send("PUT", bucket, key, {
      body: typeof body === "string" ? body : new Blob([body as Uint8Array<ArrayBuffer>]),
      headers: { "content-type": contentType },
    });
    await r.body?.cancel();
  }

  async get(bucket: string, key: string): Promise<Uint8Array> {
    const r = await this.#send("GET", bucket, key);
    return new Uint8Array(await r.arrayBuffer());
  }

  async delete(bucket: string, key: string): Promise<void> {
    const r = await this.#send("DELETE", bucket, key);
    await r.body?.cancel();
  }
}

/** s3:// objects read and deleted with the AWS_* settings, taken from the environment at the first use. */
export class S3Objects {
  #client?: S3Client;

  constructor(readonly config?: S3Config) {}

  get client(): S3Client {
    this.#client ??= new S3Client(this.config ?? s3ConfigFromEnv());
    return this.#client;
  }

  read(url: string): Promise<Uint8Array> {
    const { bucket, key } = parseObjectUrl(url);
    return this.client.get(bucket, key);
  }

  delete(url: string): Promise<void> {
    const { bucket, key } = parseObjectUrl(url);
    return this.client.delete(bucket, key);
  }
}

/** A worker's results folder in a bucket: puts objects under the prefix and says their s3:// URLs. */
export class S3Results {
  constructor(readonly client: S3Client, readonly location: S3Location) {}

  /** Puts `name` (a relative key) under the prefix; returns its s3:// URL. */
  async put(name: string, body: Uint8Array | string, contentType: string): Promise<string> {
    const key = this.location.prefix ? `${this.location.prefix}/${name}` : name;
    await this.client.put(this.location.bucket, key, body, contentType);
    return objectUrl(this.location.bucket, key);
  }

  /** Writes a small object, so a worker with a wrong bucket or credentials stops at start, saying why. */
  async check(id: string): Promise<void> {
    await this.put(`.workers/${id.replace(/[^\w.-]/g, "_")}`, new Date().toISOString(), "text/plain");
  }
}
