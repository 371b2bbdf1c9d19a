# One image for the API, the worker and migrations; compose.yaml picks the command.
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml ./
RUN mkdir -p service workers schemas migrations && touch service/__init__.py workers/__init__.py schemas/__init__.py \
    && pip install -e . && rm -rf service workers schemas
COPY alembic.ini ./
COPY migrations ./migrations
COPY schemas ./schemas
COPY service ./service
COPY workers ./workers
RUN pip install --no-deps -e . && useradd --system --home /app app && mkdir -p /app/var && chown app /app/var
USER app
ENV ENVIRONMENT=production API_HOST=0.0.0.0 API_PORT=8000
EXPOSE 8000
CMD ["feedback-router", "api"]
