"""Escalation planner tests (rules 27-31a)."""
