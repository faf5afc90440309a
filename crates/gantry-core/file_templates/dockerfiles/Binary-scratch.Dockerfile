# An image holding nothing but a static binary already built by the pipeline (and the CA
# certificates for outgoing TLS). Replace `app` with the path of your binary.
FROM alpine:3.20 AS certificates
RUN apk add --no-cache ca-certificates

FROM scratch
COPY --from=certificates /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
COPY app /app

# A numeric user: scratch has no /etc/passwd.
USER 10001
ENTRYPOINT ["/app"]
