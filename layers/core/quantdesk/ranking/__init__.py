"""Scenario ranking and the prompt engine behind ``POST /analysis/suggest``.

Pure Python (no pandas/numpy): :mod:`.engine` is the service, :mod:`.models` the HTTP contract,
:mod:`.index`/:mod:`.scorer` the BM25F ranking, :mod:`.lexicon` the finance jargon,
:mod:`.entities` and :mod:`.params` the pre-filled inputs, :mod:`.providers` local and Bedrock.
"""
