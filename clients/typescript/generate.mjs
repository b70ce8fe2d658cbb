// Types for a TypeScript client of this API, from its OpenAPI document:
//   node generate.mjs <document URL, e.g. http://127.0.0.1:3000/v1/openapi.json> <out.d.ts>
// openapi-typescript's own Node API, with its documented transform for `format: binary`:
// image and PDF bodies and answers are Blob (the CLI would type them as string), and fields
// with a default stay optional.
import { writeFileSync } from "node:fs";
import openapiTS, { astToString } from "openapi-typescript";
import ts from "typescript";

const BLOB = ts.factory.createTypeReferenceNode(ts.factory.createIdentifier("Blob"));
const NULL = ts.factory.createLiteralTypeNode(ts.factory.createNull());

const [source, out] = process.argv.slice(2);
if (!source || !out) {
  console.error("usage: node generate.mjs <document URL> <out.d.ts>");
  process.exit(2);
}
const ast = await openapiTS(new URL(source), {
  // A field with a default (a request's `purpose`, a barcode's `unit`) may be left out of a
  // request: without this, openapi-typescript makes every such field required.
  defaultNonNullable: false,
  transform(schemaObject) {
    if (schemaObject.format === "binary") {
      return schemaObject.nullable ? ts.factory.createUnionTypeNode([BLOB, NULL]) : BLOB;
    }
    return undefined;
  },
});
writeFileSync(out, astToString(ast));
