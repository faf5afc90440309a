# An image for a program already built by the pipeline (a static or glibc-linked binary).
# Replace `app` with the path of your binary in the build context.
FROM debian:bookworm-slim

# Certificates for outgoing TLS connections; add the libraries your binary links to.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*

# Run as an unprivileged user.
RUN useradd --system --uid 10001 --home-dir /app app
WORKDIR /app

COPY --chown=app:app app /usr/local/bin/app

USER app
ENTRYPOINT ["/usr/local/bin/app"]
