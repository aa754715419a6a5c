"""The psychological service's schema migrations (korpu_runtime.migrations); docs/migrations.md."""
