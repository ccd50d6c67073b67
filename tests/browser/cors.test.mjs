// s3cors in a real browser: a page on one origin talks to s3cors on another, in headless Chromium
// (Debian's `chromium`). The browser itself enforces CORS, so what passes and what is blocked here is
// what a web app would see against S3. Rule numbers refer to the CORS specification.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import http from "node:http";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { chromium } from "playwright-core";
import {
  S3Client,
  CreateBucketCommand,
  PutBucketCorsCommand,
  DeleteBucketCorsCommand,
  PutObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = process.env.S3CORS_BIN ?? path.join(here, "..", "..", "target", "debug", "s3cors");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

let server, endpoint, browser, allowed, other, s3;

function startServer(extra = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, ["--listen", "127.0.0.1:0", "--memory", ...extra], { stdio: ["ignore", "pipe", "inherit"] });
    child.on("error", reject);
    const lines = readline.createInterface({ input: child.stdout });
    lines.once("line", (line) => {
      const m = line.match(/http:\/\/127\.0\.0\.1:(\d+)/);
      if (!m) reject(new Error(`unexpected banner: ${line}`));
      else resolve({ child, endpoint: `http://127.0.0.1:${m[1]}` });
    });
    lines.on("line", () => {});
  });
}

// A static server for the page: index.html and the bundled SDK.
async function startPageServer(bundle) {
  const html = `<!doctype html><meta charset="utf-8"><title>loading</title><script src="/bundle.js"></script>`;
  const srv = http.createServer((req, res) => {
    if (req.url === "/bundle.js") {
      res.writeHead(200, { "content-type": "text/javascript" }).end(bundle);
    } else {
      res.writeHead(200, { "content-type": "text/html" }).end(html);
    }
  });
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  return { srv, origin: `http://127.0.0.1:${srv.address().port}` };
}

async function openPage(origin) {
  const page = await browser.newPage();
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => document.title === "s3cors browser test ready");
  return page;
}

const RULE_HEADERS = ["content-type", "authorization", "x-amz-*", "amz-sdk-*"];

async function setCors(bucket, { exposeETag = true } = {}) {
  await s3.send(
    new PutBucketCorsCommand({
      Bucket: bucket,
      CORSConfiguration: {
        CORSRules: [
          {
            AllowedOrigins: [allowed.origin],
            AllowedMethods: ["GET", "PUT", "HEAD", "POST"],
            AllowedHeaders: RULE_HEADERS,
            ExposeHeaders: exposeETag ? ["ETag"] : undefined,
          },
        ],
      },
    }),
  );
}

before(async () => {
  ({ child: server, endpoint } = await startServer());
  const built = await esbuild.build({
    entryPoints: [path.join(here, "page", "app.js")],
    bundle: true,
    format: "iife",
    platform: "browser",
    write: false,
    logLevel: "error",
  });
  const bundle = built.outputFiles[0].text;
  allowed = await startPageServer(bundle);
  other = await startPageServer(bundle);
  s3 = new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "s3cors", secretAccessKey: "s3cors-secret" },
  });
  for (const b of ["web", "noexpose"]) await s3.send(new CreateBucketCommand({ Bucket: b }));
  await setCors("web");
  await setCors("noexpose", { exposeETag: false });
  await s3.send(new PutObjectCommand({ Bucket: "web", Key: "hello.txt", Body: "hello from s3cors" }));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
});

after(async () => {
  await browser?.close();
  allowed?.srv.close();
  other?.srv.close();
  server?.kill("SIGTERM");
});

test("R60, R51: an allowed GET succeeds and reads exposed headers only", async () => {
  const page = await openPage(allowed.origin);
  const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: "web", Key: "hello.txt" }), { expiresIn: 600 });
  const r = await page.evaluate(([u]) => window.s3cors.fetch(u), [url]);
  assert.equal(r.blocked, false, r.error);
  assert.equal(r.status, 200);
  assert.equal(r.body, "hello from s3cors");
  assert.match(r.etag, /^"[0-9a-f]{32}"$/, "ETag is exposed");
  assert.equal(r.requestId, null, "x-amz-request-id is not exposed, so the page cannot read it");
  await page.close();
});

test("R74: a presigned PUT with a preflight succeeds; HEAD works", async () => {
  const page = await openPage(allowed.origin);
  const put = await getSignedUrl(s3, new PutObjectCommand({ Bucket: "web", Key: "from-page.txt" }), { expiresIn: 600 });
  const r = await page.evaluate(
    ([u]) => window.s3cors.fetch(u, { method: "PUT", body: "written by the page", headers: { "content-type": "text/plain" } }),
    [put],
  );
  assert.equal(r.blocked, false, r.error);
  assert.equal(r.status, 200);
  const back = await s3.send(new GetObjectCommand({ Bucket: "web", Key: "from-page.txt" }));
  assert.equal(await back.Body.transformToString(), "written by the page");
  const head = await getSignedUrl(s3, new HeadObjectCommand({ Bucket: "web", Key: "from-page.txt" }), { expiresIn: 600 });
  const h = await page.evaluate(([u]) => window.s3cors.fetch(u, { method: "HEAD" }), [head]);
  assert.equal(h.blocked, false, h.error);
  assert.equal(h.status, 200);
  await page.close();
});

test("R55, R61: another origin, a method or a header the rule does not allow are blocked by the browser", async () => {
  const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: "web", Key: "hello.txt" }), { expiresIn: 600 });
  const elsewhere = await openPage(other.origin);
  const r = await elsewhere.evaluate(([u]) => window.s3cors.fetch(u), [url]);
  assert.equal(r.blocked, true, "a GET from an origin no rule allows is blocked");
  await elsewhere.close();

  const page = await openPage(allowed.origin);
  const del = await page.evaluate(([u]) => window.s3cors.fetch(u, { method: "DELETE" }), [`${endpoint}/web/hello.txt`]);
  assert.equal(del.blocked, true, "DELETE is not an allowed method");
  const hdr = await page.evaluate(([u]) => window.s3cors.fetch(u, { headers: { "x-forbidden": "1" } }), [url]);
  assert.equal(hdr.blocked, true, "x-forbidden is not an allowed header");
  const ok = await page.evaluate(([u]) => window.s3cors.fetch(u, { headers: { "x-amz-meta-ok": "1" } }), [url]);
  assert.equal(ok.blocked, false, "x-amz-* is allowed");
  await page.close();
  // The object was not deleted: the browser never sent the DELETE.
  const still = await s3.send(new GetObjectCommand({ Bucket: "web", Key: "hello.txt" }));
  assert.equal(await still.Body.transformToString(), "hello from s3cors");
});

test("R75: the AWS SDK for JavaScript v3 works from the page", async () => {
  const page = await openPage(allowed.origin);
  const r = await page.evaluate(([e]) => window.s3cors.roundTrip(e, "web", "sdk/object.txt", "sdk body"), [endpoint]);
  assert.equal(r.ok, true, r.error);
  assert.match(r.value.putETag, /^"[0-9a-f]{32}"$/);
  assert.equal(r.value.headLength, 8);
  assert.equal(r.value.body, "sdk body");
  assert.ok(r.value.keys.includes("sdk/object.txt"));
  await page.close();
});

test("R76: a multipart upload from the page completes when ETag is exposed, and cannot without it", async () => {
  const page = await openPage(allowed.origin);
  const r = await page.evaluate(([e]) => window.s3cors.multipart(e, "web", "big.bin"), [endpoint]);
  assert.equal(r.ok, true, r.error);
  assert.equal(r.value.completed, true);
  assert.match(r.value.etag, /^"[0-9a-f]{32}-2"$/);
  const hidden = await page.evaluate(([e]) => window.s3cors.multipart(e, "noexpose", "big.bin"), [endpoint]);
  assert.equal(hidden.ok, true, hidden.error);
  assert.deepEqual(hidden.value.etags, [null, null], "without ExposeHeader ETag the page cannot read part ETags");
  await page.close();
});

test("R77: an HTML form upload (POST Object) works cross-origin under the bucket's CORS rules", async () => {
  const { url, fields } = await createPresignedPost(s3, {
    Bucket: "web",
    Key: "forms/${filename}",
    Conditions: [["starts-with", "$key", "forms/"], ["content-length-range", 1, 1024]],
    Expires: 600,
  });
  const page = await openPage(allowed.origin);
  const r = await page.evaluate(([u, f]) => window.s3cors.postForm(u, f, "note.txt", "posted from a form"), [url, fields]);
  assert.equal(r.blocked, false, r.error);
  assert.equal(r.status, 204);
  assert.match(r.etag, /^"[0-9a-f]{32}"$/, "ETag is exposed to the page");
  const back = await s3.send(new GetObjectCommand({ Bucket: "web", Key: "forms/note.txt" }));
  assert.equal(await back.Body.transformToString(), "posted from a form");
  await page.close();
  const elsewhere = await openPage(other.origin);
  const blocked = await elsewhere.evaluate(([u, f]) => window.s3cors.postForm(u, f, "x.txt", "x"), [url, fields]);
  assert.equal(blocked.blocked, true, "the response is hidden from an origin no rule allows");
  await elsewhere.close();
});

test("R39: after DeleteBucketCors the allowed origin is blocked too", async () => {
  const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: "web", Key: "hello.txt" }), { expiresIn: 600 });
  await s3.send(new DeleteBucketCorsCommand({ Bucket: "web" }));
  const page = await openPage(allowed.origin);
  const r = await page.evaluate(([u]) => window.s3cors.fetch(u), [url]);
  assert.equal(r.blocked, true);
  await page.close();
  await setCors("web");
});

test("--cors-debug: the network panel shows why a preflight was refused; scripts read it when allowed", async () => {
  const { child, endpoint: dbgEndpoint } = await startServer(["--cors-debug"]);
  try {
    const dbg = new S3Client({
      endpoint: dbgEndpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "s3cors", secretAccessKey: "s3cors-secret" },
    });
    await dbg.send(new CreateBucketCommand({ Bucket: "dbg" }));
    await dbg.send(
      new PutBucketCorsCommand({
        Bucket: "dbg",
        CORSConfiguration: {
          CORSRules: [
            { ID: "uploads", AllowedOrigins: [allowed.origin], AllowedMethods: ["GET", "PUT"], AllowedHeaders: ["content-type"] },
          ],
        },
      }),
    );
    await dbg.send(new PutObjectCommand({ Bucket: "dbg", Key: "k", Body: "debug me" }));
    const page = await openPage(allowed.origin);
    // The browser's own network log, as DevTools shows it: preflights included.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Network.enable");
    const methods = new Map();
    const preflights = [];
    cdp.on("Network.requestWillBeSent", (e) => methods.set(e.requestId, e.request.method));
    cdp.on("Network.responseReceived", (e) => {
      if (e.type === "Preflight" || methods.get(e.requestId) === "OPTIONS") preflights.push(e.response);
    });
    const put = await getSignedUrl(dbg, new PutObjectCommand({ Bucket: "dbg", Key: "k" }), { expiresIn: 600 });
    // R55: x-amz-meta-note is not an allowed header, so the preflight is refused and the PUT never sent.
    const r = await page.evaluate(
      ([u]) => window.s3cors.fetch(u, { method: "PUT", body: "x", headers: { "x-amz-meta-note": "1" } }),
      [put],
    );
    assert.equal(r.blocked, true);
    for (let i = 0; i < 50 && preflights.length === 0; i++) await new Promise((ok) => setTimeout(ok, 50));
    assert.ok(preflights.length > 0, "the preflight is in the network log");
    const refused = preflights[preflights.length - 1];
    assert.equal(refused.status, 403);
    const headers = Object.fromEntries(Object.entries(refused.headers).map(([k, v]) => [k.toLowerCase(), v]));
    assert.equal(
      headers["x-s3cors-cors-decision"],
      "denied: rule 1 (id=uploads) origin ok, method ok, header x-amz-meta-note not allowed",
    );
    // R60: an allowed request exposes the explanation to the page.
    const get = await getSignedUrl(dbg, new GetObjectCommand({ Bucket: "dbg", Key: "k" }), { expiresIn: 600 });
    const ok = await page.evaluate(([u]) => window.s3cors.fetch(u), [get]);
    assert.equal(ok.blocked, false, ok.error);
    assert.equal(ok.corsDecision, "allowed: rule 1 (id=uploads) matches");
    await page.close();
  } finally {
    child.kill("SIGTERM");
  }
});
