"""The ingest service: raw events in, validated canonical events out.

- :mod:`~slawatch_ingest.dedup`: the bounded duplicate filter;
- :mod:`~slawatch_ingest.pipeline`: the pure decision for one raw record (canonical
  message, duplicate, or dead letter);
- :mod:`~slawatch_ingest.consumer`: the Kafka consume, publish, commit loop;
- :mod:`~slawatch_ingest.api`: the FastAPI app (``POST /v1/events``, health, metrics);
- :mod:`~slawatch_ingest.metrics`: the service's Prometheus metrics;
- :mod:`~slawatch_ingest.service`: :func:`~slawatch_ingest.service.serve`, what
  ``slawatch serve ingest`` runs.
"""
