// Calls through the TypeScript client: types from openapi-typescript (schema.d.ts,
// generated from the served document next to this file), calls by openapi-fetch.
// Run by test_generated_clients.py after `tsc`: node calls.js <api> <key> <code> <photo>.
// Prints one JSON object: what each call answered, for the test to check.
import { readFileSync } from "node:fs";
import createClient from "openapi-fetch";
import type { paths } from "./schema.js";

const [api, key, code, photo] = process.argv.slice(2);
// --8<-- [start:client]
// Answers typed as their JSON; image bytes are asked for with parseAs.
const client = createClient<paths, `${string}/json`>({ baseUrl: api, headers: { "x-api-key": key } });
// --8<-- [end:client]
const answers: Record<string, unknown> = {};
const barcode = { type: "ean13", content: code, width: 300, height: 150 };

// --8<-- [start:calls]
const found = await client.GET("/products/{code}", { params: { path: { code } } });
if (!found.data) throw new Error(`lookup: ${found.response.status}`);
answers.lookup = { status: found.response.status, gtin: found.data.gtin };

const described = await client.GET("/barcodes", { params: { query: barcode } });
if (!described.data) throw new Error(`generate: ${described.response.status}`);
answers.generate_json = { format: described.data.format, verified: described.data.verified };

// The bytes: response=image with the image's type first in Accept, read as bytes.
const image = await client.GET("/barcodes", {
  params: { query: { ...barcode, response: "image" } },
  headers: { Accept: "image/png" },
  parseAs: "arrayBuffer",
});
if (!image.data) throw new Error(`image: ${image.response.status}`);
answers.generate_image = {
  status: image.response.status,
  mime_type: image.response.headers.get("content-type"),
  magic: Buffer.from(image.data).subarray(0, 4).toString("hex"),
};

const moved = await client.GET("/barcodes", {
  params: { query: { ...barcode, response: "redirect" } },
  redirect: "manual",
});
answers.generate_redirect = {
  status: moved.response.status,
  location: (moved.response.headers.get("location") ?? "").startsWith("http"),
};

const text = await client.POST("/scans", { body: { text: code, format: "EAN_13" } });
if (!text.data) throw new Error(`scan: ${text.response.status}`);
answers.scan_text = text.data.scans.map((s) => [s.gtin, s.status]);

// A photo is the body itself, sent as it is with its own type.
const read = await client.POST("/scans", {
  body: new Blob([readFileSync(photo)], { type: "image/png" }),
  headers: { "Content-Type": "image/png" },
  bodySerializer: (body) => body as Blob,
});
if (!read.data) throw new Error(`scan photo: ${read.response.status}`);
answers.scan_photo = read.data.scans.map((s) => [s.gtin, s.status]);
// --8<-- [end:calls]

// --8<-- [start:upload]
const created = await client.POST("/uploads", {
  body: { filename: "codes.csv", content_type: "text/csv" },
});
if (!created.data) throw new Error(`upload: ${created.response.status}`);
// The presigned POST goes to S3 (not the API), as the answer says: its fields, the file last.
const form = new FormData();
for (const [name, value] of Object.entries(created.data.upload.fields)) {
  form.append(name, String(value));
}
form.append("file", new Blob([`code\n${code}\n`], { type: "text/csv" }), "codes.csv");
const posted = await fetch(created.data.upload.url, { method: "POST", body: form });
if (!posted.ok) throw new Error(`presigned POST: ${posted.status} ${await posted.text()}`);
let job: { status: string; counts?: unknown } | undefined;
for (let i = 0; i < 120; i++) {
  const answer = await client.GET("/uploads/{id}", {
    params: { path: { id: created.data.upload_id } },
  });
  if (!answer.data) throw new Error(`upload status: ${answer.response.status}`);
  job = answer.data;
  if (job.status === "done" || job.status === "failed") break;
  await new Promise((resolve) => setTimeout(resolve, 500));
}
// --8<-- [end:upload]
answers.upload = { status: job?.status, rows: job?.counts ?? null };

console.log(JSON.stringify(answers));
