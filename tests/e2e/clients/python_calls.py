"""Calls through the Python client openapi-python-client generated from the served document.

Run by test_generated_clients.py with the docs venv's Python (where the generator's
httpx and attrs are): `python python_calls.py <client dir> <api> <key> <code> <photo>`.
Prints one JSON object: what each call answered, for the test to check.
"""

from __future__ import annotations

import json
import sys
import time
from io import BytesIO
from pathlib import Path

import httpx

client_dir, api, key, code, photo = sys.argv[1:6]
sys.path.insert(0, client_dir)

from barcode_client import AuthenticatedClient  # noqa: E402
from barcode_client.api.barcodes import generate_barcode_get  # noqa: E402
from barcode_client.api.products import get_product, scan  # noqa: E402
from barcode_client.api.uploads import create_upload, get_upload  # noqa: E402
from barcode_client.models import (  # noqa: E402
    CreateUploadRequest,
    CreateUploadRequestContentType,
    GeneratedBarcode,
    Product,
    ScanResponse,
    ScanTextRequest,
    UploadCreated,
    UploadStatus,
)
from barcode_client.models.generate_barcode_get_response_type_0 import (  # noqa: E402
    GenerateBarcodeGetResponseType0 as Mode,
)
from barcode_client.types import File  # noqa: E402

# --8<-- [start:client]
client = AuthenticatedClient(base_url=api, token=key, prefix="", auth_header_name="x-api-key")
# Image bytes come back only to a request whose first Accept type is the image's.
image_client = client.with_headers({"Accept": "image/png"})
# --8<-- [end:client]
answers: dict[str, object] = {}

# --8<-- [start:calls]
found = get_product.sync_detailed(code, client=client)
assert isinstance(found.parsed, Product), found.content
answers["lookup"] = {"status": found.status_code, "gtin": found.parsed.gtin}

barcode = {"type_": "ean13", "content": code, "width": 300, "height": 150}
described = generate_barcode_get.sync(client=client, **barcode)
assert isinstance(described, GeneratedBarcode), described
answers["generate_json"] = {"format": described.format_, "verified": described.verified}

image = generate_barcode_get.sync_detailed(client=image_client, response=Mode.IMAGE, **barcode)
assert isinstance(image.parsed, File), image.content[:200]
answers["generate_image"] = {
    "status": image.status_code,
    "mime_type": image.parsed.mime_type,
    "magic": image.parsed.payload.read(4).hex(),
}

moved = generate_barcode_get.sync_detailed(client=client, response=Mode.REDIRECT, **barcode)
answers["generate_redirect"] = {
    "status": moved.status_code,
    "location": moved.headers.get("location", "").startswith("http"),
}

text = scan.sync(client=client, body=ScanTextRequest(text=code, format_="EAN_13"))
assert isinstance(text, ScanResponse), text
answers["scan_text"] = [(s.gtin, s.status) for s in text.scans]

picture = File(payload=BytesIO(Path(photo).read_bytes()), mime_type="image/png")
read = scan.sync(client=client, body=picture)
assert isinstance(read, ScanResponse), read
answers["scan_photo"] = [(s.gtin, s.status) for s in read.scans]
# --8<-- [end:calls]

# --8<-- [start:upload]
created = create_upload.sync(
    client=client,
    body=CreateUploadRequest(
        filename="codes.csv", content_type=CreateUploadRequestContentType.TEXTCSV
    ),
)
assert isinstance(created, UploadCreated), created
# The presigned POST goes to S3 (not the API), as the answer says: its own fields, the file last.
posted = httpx.post(
    created.upload.url,
    data=created.upload.fields.to_dict(),
    files={"file": ("codes.csv", f"code\n{code}\n".encode(), "text/csv")},
)
assert posted.status_code in (200, 201, 204), posted.text
job = None
for _ in range(120):
    job = get_upload.sync(created.upload_id, client=client)
    assert isinstance(job, UploadStatus), job
    if str(job.status) in ("done", "failed"):
        break
    time.sleep(0.5)
assert job is not None
# --8<-- [end:upload]
answers["upload"] = {
    "status": str(job.status),
    "rows": job.counts.to_dict() if job.counts else None,
}

print(json.dumps(answers))
