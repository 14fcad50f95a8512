"""slawatch test suite."""
