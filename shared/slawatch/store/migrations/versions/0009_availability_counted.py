"""What each availability objective's owner has added to the downtime counters.

``availability_counted`` holds, per canonical topic and objective, the window start and
the downtime and measured seconds counted so far in ``slawatch_sla_downtime_seconds_total``
and ``slawatch_sla_measured_seconds_total``. An evaluator that takes a service over (a
restart, a rebalance) adds from there instead of starting from a baseline, so the time
between its predecessor's last gauge refresh and its own first is counted once.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "availability_counted",
        sa.Column("topic", sa.String(255), primary_key=True),
        sa.Column("sla", sa.String(255), primary_key=True),
        sa.Column("kind", sa.String(64), primary_key=True),
        sa.Column("window_start", sa.BigInteger, nullable=False),
        sa.Column("downtime_seconds", sa.Float, nullable=False),
        sa.Column("measured_seconds", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("availability_counted")
