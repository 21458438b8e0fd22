"""Prompt analytics: each suggest and what followed it (card chosen, params edited, run outcome),
per owner, aggregated for ``GET /analysis/analytics`` and exported as labelled ranking pairs."""
