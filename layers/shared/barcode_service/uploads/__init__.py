"""Uploads: a merchant's list or photo, uploaded to S3, looked up row by row.

The API side (`service`) creates a `pending` job and a presigned S3 POST for
`uploads/<id>.<ext>` (`policy` says which files and keys are accepted). S3 notifies
the queue; the worker (`worker`) moves the job to `processing` and then `done` or
`failed`, splitting big lists into chunk messages (`chunks`, `messages`) that any
worker may process, and writes the result files (`results`). Job records and their
conditional writes are in `jobs`; `status` is the `GET /uploads/{id}` view.

Modules are imported one by one (this file imports nothing): the uploads API never
loads the worker's Idempotency, image and list machinery.
"""
