"""Shared domain code of the barcode backend: upstream clients, cache, rendering, errors."""

__version__ = "0.1.0"
PROJECT_NAME = "barcode-backend"
