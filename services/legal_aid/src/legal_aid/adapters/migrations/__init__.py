"""The legal aid service's schema migrations (korpu_runtime.migrations); see docs/migrations.md."""
