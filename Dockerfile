# syntax=docker/dockerfile:1
# ServiceRW production image: one image for `servicerw serve`, `worker`, `migrate`, `backup`, `partitions`.
#
#   docker build -t registry.example.rw/servicerw:$(git rev-parse --short HEAD) .
#
# Two stages: `build` installs the locked dependencies (requirements.lock: no dev tools, no embedded PostgreSQL,
# hashes checked) into /opt/venv and compiles the translations; the final stage gets that virtualenv and only what
# runs: src/, templates/, static/, migrations/ (no tests/, e2e/, bench/, deploy/). The package is installed in
# editable mode because templates/, static/ and migrations/ are read from the source tree at run time
# (settings.ROOT_DIR is /app). No secret is baked in: every setting comes from the environment at run time.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

RUN python -m venv /opt/venv

WORKDIR /app

# Dependencies first, in their own layer: rebuilt only when the lock file changes.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

COPY pyproject.toml README.md babel.cfg ./
COPY src ./src
COPY templates ./templates
COPY static ./static
COPY migrations ./migrations
RUN pip install --no-deps -e . \
    && pybabel compile -d src/servicerw/locale -D messages \
    && python -m compileall -q src migrations

FROM ${PYTHON_IMAGE} AS runtime

# pg_dump/pg_restore for `servicerw backup`/`restore`, from PostgreSQL's own Debian repository so that the client
# is as new as the server (a pg_dump may dump older servers, never newer ones).
ARG PG_CLIENT_MAJOR=16
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-common ca-certificates \
    && /usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y \
    && apt-get install -y --no-install-recommends "postgresql-client-${PG_CLIENT_MAJOR}" \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:/usr/lib/postgresql/${PG_CLIENT_MAJOR}/bin:$PATH

# An unprivileged user with a fixed numeric id (Kubernetes' runAsNonRoot can only verify numeric ids).
RUN groupadd --system --gid 10001 servicerw \
    && useradd --system --uid 10001 --gid servicerw --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin servicerw \
    && mkdir -p /data /backups \
    && chown servicerw:servicerw /data /backups

WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app

ENV SERVICERW_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    WORKERS=2 \
    DATA_DIR=/data \
    BACKUP_DIR=/backups

USER 10001:10001

EXPOSE 8000

# `servicerw migrate` must have run against DATABASE_URL first (compose: the `migrate` service;
# Kubernetes: the servicerw-migrate Job).
CMD ["sh", "-c", "exec servicerw serve --host 0.0.0.0 --port 8000 --workers \"${WORKERS:-1}\""]
