"""The shelter service's schema migrations (korpu_runtime.migrations); see docs/migrations.md."""
