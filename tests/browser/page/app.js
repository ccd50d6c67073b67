// Runs inside the page: the AWS SDK for JavaScript v3 talking to s3cors on another origin.
import {
  S3Client,
  PutObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  CompleteMultipartUploadCommand,
} from "@aws-sdk/client-s3";

function client(endpoint) {
  return new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "s3cors", secretAccessKey: "s3cors-secret" },
  });
}

async function attempt(fn) {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    return { ok: false, error: `${e.name}: ${e.message}` };
  }
}

window.s3cors = {
  // PutObject, HeadObject, GetObject and ListObjectsV2 through the SDK.
  async roundTrip(endpoint, bucket, key, text) {
    const s3 = client(endpoint);
    return attempt(async () => {
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: text, ContentType: "text/plain" }));
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const body = await got.Body.transformToString();
      const list = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
      return {
        putETag: put.ETag ?? null,
        headLength: head.ContentLength,
        body,
        keys: (list.Contents ?? []).map((o) => o.Key),
      };
    });
  },

  // A multipart upload from the page; CompleteMultipartUpload needs each part's ETag, which the
  // browser only lets the SDK read when the rule exposes it.
  async multipart(endpoint, bucket, key) {
    const s3 = client(endpoint);
    return attempt(async () => {
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
      const first = new Uint8Array(5 * 1024 * 1024).fill(97);
      const second = new TextEncoder().encode("tail");
      const parts = [];
      for (const [i, body] of [first, second].entries()) {
        const out = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body: body }));
        parts.push({ PartNumber: i + 1, ETag: out.ETag });
      }
      if (parts.some((p) => !p.ETag)) {
        return { etags: parts.map((p) => p.ETag ?? null), completed: false };
      }
      const done = await s3.send(
        new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }),
      );
      return { etags: parts.map((p) => p.ETag), completed: true, etag: done.ETag };
    });
  },

  // An HTML-form-style upload (multipart/form-data POST) with presigned POST fields.
  async postForm(url, fields, filename, text) {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    form.append("file", new Blob([text], { type: "text/plain" }), filename);
    return window.s3cors.fetch(url, { method: "POST", body: form });
  },

  // A plain fetch, reporting what the page may see of the answer, or that the browser blocked it.
  async fetch(url, init) {
    try {
      const r = await fetch(url, init);
      return {
        blocked: false,
        status: r.status,
        body: await r.text(),
        etag: r.headers.get("etag"),
        requestId: r.headers.get("x-amz-request-id"),
        corsDecision: r.headers.get("x-s3cors-cors-decision"),
      };
    } catch (e) {
      return { blocked: true, error: String(e) };
    }
  },
};
document.title = "s3cors browser test ready";
