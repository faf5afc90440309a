# An image for a program already built by the pipeline, on Alpine Linux (the binary must be
# static or linked against musl). Replace `app` with the path of your binary.
FROM alpine:3.20

RUN apk add --no-cache ca-certificates \
    && adduser -S -D -H -u 10001 app

COPY --chown=app app /usr/local/bin/app

USER app
ENTRYPOINT ["/usr/local/bin/app"]
