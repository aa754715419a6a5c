"""Material assistance's schema migrations (korpu_runtime.migrations); docs/migrations.md."""
