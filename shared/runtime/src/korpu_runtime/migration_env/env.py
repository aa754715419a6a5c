"""The one Alembic environment of every Körpü service: its body is `migrations.run_environment`."""

from alembic import context

from korpu_runtime import migrations

migrations.run_environment(context)  # type: ignore[arg-type]
