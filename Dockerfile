# saleor-lengo: one image, `saleor-lengo serve` on 0.0.0.0:8000.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md manifest.json ./
COPY graphql ./graphql
COPY docs/operations.md docs/privacy.md ./docs/
COPY saleor_lengo ./saleor_lengo
# A wheel, not an editable install: the image must work from the package alone.
# Its dependencies come from the lock, not from the wheel's ranges.
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite:////data/saleor-lengo.sqlite3 \
    LOG_FORMAT=json
RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin app \
    && mkdir -p /data && chown app /data
# Exact versions with their hashes (requirements/app.txt), then the app itself without dependencies.
COPY requirements/app.txt /tmp/requirements.txt
RUN pip install --no-cache-dir --require-hashes -r /tmp/requirements.txt && rm /tmp/requirements.txt
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-deps /wheels/*.whl && rm -rf /wheels
USER app
WORKDIR /data
# The SQLite database and its generated SECRET_KEY file live here: back them up together.
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2).status == 200 else 1)"]
CMD ["saleor-lengo", "serve", "--host", "0.0.0.0", "--port", "8000"]
