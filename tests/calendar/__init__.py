"""Tests of slawatch.calendar."""
