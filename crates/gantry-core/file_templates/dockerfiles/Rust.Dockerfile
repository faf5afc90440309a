# A Rust program: built in the Rust image, shipped in a small Debian image.
# Change `app` to the name of your binary (the package's name, by default).
FROM rust:1 AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 app
COPY --from=build /src/target/release/app /usr/local/bin/app
USER app
ENTRYPOINT ["/usr/local/bin/app"]
