"""Pure pandas/numpy analytics: one module per scenario (no AWS, no I/O)."""
