# syntax=docker/dockerfile:1
# Build:   docker build -t ipt-diary .
# Migrate: docker run --rm -e DATABASE_URL=... -e SECRET_KEY=... ipt-diary alembic upgrade head
# Serve:   docker run -p 8000:8000 -e DATABASE_URL=... -e SECRET_KEY=... ipt-diary

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 ENVIRONMENT=production
# WeasyPrint (the session brief's PDF) lays text out with Pango and needs a font.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 diary
WORKDIR /srv
# Exactly the versions the tests ran with (requirements.lock, hashes checked), then the app.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements.lock
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-deps /wheels/*.whl && rm -rf /wheels
COPY alembic.ini ./
COPY migrations ./migrations
USER diary
EXPOSE 8000
# Migrations are a separate step (see above), run once per release before the servers.
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000", "--workers", "2", \
     "--no-access-log", "--proxy-headers", "--forwarded-allow-ips", "*"]
