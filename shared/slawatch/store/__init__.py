"""The database adapter: schema, migrations and the evaluator's and notifier's stores.

Migrations (:mod:`slawatch.store.migrate`, Alembic) are imported only where they run;
the services check the schema with :mod:`slawatch.store.revision`.
"""
