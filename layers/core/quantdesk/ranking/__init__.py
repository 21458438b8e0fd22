"""Scenario ranking and the prompt engine behind ``POST /analysis/suggest``.

Pure Python (no pandas/numpy): :mod:`.engine` is the service, :mod:`.models` the HTTP contract,
:mod:`.index`/:mod:`.scorer` the BM25F ranking, :mod:`.lexicon` the finance jargon,
:mod:`.entities` and :mod:`.params` the pre-filled inputs, :mod:`.providers` the local provider
and :mod:`.bedrock` the Bedrock one (imported only when configured).

Cold start counts (the suggest function imports this package): small value types are ``NamedTuple``
rather than dataclasses (a dataclass costs ~0.6 ms to define, a NamedTuple ~0.1 ms), and tables
derived from the lexicon or the catalogue are built on first use, not at import.
"""
