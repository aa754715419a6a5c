"""The medical service's schema migrations (korpu_runtime.migrations); see docs/migrations.md."""
