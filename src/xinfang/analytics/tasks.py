"""Background jobs of the analysis desk (huey). Each one is idempotent; see docs/analytics.md."""
