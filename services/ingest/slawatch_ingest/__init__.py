"""slawatch."""
