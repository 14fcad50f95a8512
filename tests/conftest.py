"""Settings for the whole suite."""

from hypothesis import HealthCheck, settings

# No per-example deadline anywhere: CI runs on shared 2-core machines whose speed swings
# by half, and a property is about what a rule returns, not how fast (speed is measured
# in `make bench`). An explicit ``@settings`` on a test inherits this profile.
settings.register_profile("slawatch", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("slawatch")
