"""The Batch API layer: models, auth, client, errors and cache (never imports Textual)."""
