"""Local stack: the whole service on one machine from `template.yaml`, no Docker, no AWS.

`python -m local.stack` starts moto in server mode, creates the template's tables,
buckets, queues and secret in it, serves the API's `/v1/...` routes by calling the real
Lambda handlers, and feeds the uploads queue to the worker. See docs/local-run.md.
"""
