"""The S3 data lake: partitioned columnar files, immutable snapshots, and the scenario reader.

Layout (all in the data bucket)::

    lake/<dataset>/<partition>/part-<sha16>.parquet   content-addressed partition files
    snapshots/<dataset>/<snapshot_id>.json            manifest: the files a snapshot is made of
    raw/<source>/<run_id>/<dataset>.parquet           fetched batches, kept as received
    validated/<run_id>/<source>/<dataset>.parquet     rows that passed validation
    quarantine/<run_id>/<source>/<dataset>.parquet    rejected rows with a ``reason`` column
    quarantine/<run_id>/<source>/report.json          the machine-readable validation report
    landing/<prefix>/...                              files dropped for the ``files`` source

``prices`` and ``sentiment`` are partitioned by ``year=YYYY/bucket=NN`` (NN = crc32(symbol) mod
8), so reading a universe over a date range fetches only the years and buckets it needs; the
small datasets are one partition (``all``). A snapshot record in DynamoDB (``DATASET#<name>`` /
``SNAP#<id>``) points at its manifest; ``LATEST`` points at the current snapshot.

Import the submodules directly (``quantdesk.datalake.reader``): they load pandas, which the API
functions must not.
"""
