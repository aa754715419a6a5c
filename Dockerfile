# syntax=docker/dockerfile:1
# One image for every Körpü service; docker-compose.yml picks the service with
# `korpu serve <name>`. Build from the repository root: docker compose build
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    KORPU_DATA_DIR=/var/lib/korpu

# An unprivileged user; the only place it may write is the data directory. Its
# keys/signing folder is where docker-compose.yml mounts the services' signing keys.
RUN groupadd --system korpu \
 && useradd --system --gid korpu --home-dir /var/lib/korpu --shell /usr/sbin/nologin korpu \
 && install -d -o korpu -g korpu /var/lib/korpu \
 && install -d -m 0700 -o korpu -g korpu /var/lib/korpu/keys /var/lib/korpu/keys/signing

WORKDIR /app
COPY . /app

# The same install as scripts/bootstrap (every folder under services/), pinned by
# constraints.txt. The pip cache mount keeps rebuilds fast without leaving the cache
# in the image.
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install -c constraints.txt \
      -e shared/contracts -e shared/runtime -e shared/provider_kit \
      $(for service in services/*/; do printf -- '-e %s ' "$service"; done) \
      -e .

USER korpu
# The referral service's port; each provider's (8081 and on, in the order of the list of
# services) is exposed by its block in docker-compose.yml.
EXPOSE 8080
CMD ["korpu", "serve", "referral"]
