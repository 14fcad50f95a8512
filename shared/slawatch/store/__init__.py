"""The database adapter: schema, migrations and the evaluator's and notifier's stores."""

from slawatch.store.migrate import current_revision, head_revision, upgrade

__all__ = ["current_revision", "head_revision", "upgrade"]
