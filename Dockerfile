# newsmon: slim, non-root, data in /data, health checked by `newsmon healthcheck`.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    NEWSMON_DB=/data/newsmon.db

WORKDIR /app
COPY pyproject.toml README.md ./
COPY monitor ./monitor
COPY rules ./rules
COPY storage ./storage
RUN pip install --no-compile . && rm -rf /root/.cache

# A numeric user, so Kubernetes' runAsNonRoot can verify it.
RUN mkdir -p /data && chown 10001:10001 /data
USER 10001:10001
VOLUME ["/data"]
WORKDIR /data

HEALTHCHECK --interval=60s --timeout=10s --start-period=60s --retries=3 \
    CMD ["newsmon", "healthcheck"]

# Python as PID 1 gets SIGTERM from `docker stop`; newsmon handles it and exits 0.
# `docker run --init` adds a reaper if you run extra processes.
CMD ["newsmon", "run"]
