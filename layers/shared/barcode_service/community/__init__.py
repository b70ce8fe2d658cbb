"""The community catalog: products described by the app's own users.

`POST /v1/products/{code}` takes a description of a product no provider knows
(`request`), keeps it with its provenance in one `COMMUNITY#<gtin14>` item per code
(`model`, `store`), answers it at once to its contributor and to everyone once
COMMUNITY_CONFIRMATIONS distinct callers agree or an operator approves it
(`service`, scripts/community.py). The `community` provider (providers/community.py)
answers published contributions in its place in LOOKUP_PROVIDERS. A contribution whose
request says `"share": true` is also sent to Open Food Facts (`share`), retried from
its own queue when that fails.

Modules are imported one by one (this file imports nothing).
"""
