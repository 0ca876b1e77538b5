# syntax=docker/dockerfile:1
# ServiceRW application image: one image for `servicerw serve`, `servicerw migrate` and `servicerw worker`.
#
#   docker build -t servicerw:0.1.0 .
#
# The whole repository tree lives at /app and the package is installed in editable mode, because
# templates/, static/ and migrations/ are read from the source tree at run time (settings.ROOT_DIR is
# the repository root). No secret is baked in: every setting comes from the environment at run time.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# An unprivileged user with a fixed numeric id (Kubernetes' runAsNonRoot can only verify numeric ids).
RUN groupadd --system --gid 10001 servicerw \
    && useradd --system --uid 10001 --gid servicerw --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin servicerw \
    && python -m venv /opt/venv

WORKDIR /app

# `servicerw backup`/`restore` run PostgreSQL's pg_dump/pg_restore, of the server's major version (Debian 12 only
# has 15): from the PostgreSQL project's apt repository. POSTGRES_CLIENTS lists the majors to install (compose
# runs PostgreSQL 16); `servicerw backup` picks the one matching the server, else the closest newer one.
ARG POSTGRES_CLIENTS="16"
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && install -d /usr/share/postgresql-common/pgdg \
    && curl -fsSL -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc \
        https://www.postgresql.org/media/keys/ACCC4CF8.asc \
    && echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt bookworm-pgdg main" \
        > /etc/apt/sources.list.d/pgdg.list \
    && apt-get update \
    && apt-get install -y --no-install-recommends $(for v in $POSTGRES_CLIENTS; do echo "postgresql-client-$v"; done) \
    && apt-get purge -y --auto-remove curl \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first, in their own layer: it is rebuilt only when pyproject.toml changes.
COPY pyproject.toml README.md ./
RUN mkdir -p src/servicerw \
    && touch src/servicerw/__init__.py \
    && pip install -e . \
    && rm -rf src

# Then the application itself (see .dockerignore for what stays out).
COPY . .
RUN pip install --no-deps -e . \
    && pybabel compile -d src/servicerw/locale -D messages \
    && python -m compileall -q src migrations \
    && mkdir -p /data \
    && chown servicerw:servicerw /data

ENV SERVICERW_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    WORKERS=2 \
    DATA_DIR=/data

USER 10001:10001

EXPOSE 8000

# `servicerw migrate` must have run against DATABASE_URL first (compose: the `migrate` service;
# Kubernetes: the servicerw-migrate Job).
CMD ["sh", "-c", "exec servicerw serve --host 0.0.0.0 --port 8000 --workers \"${WORKERS:-1}\""]
