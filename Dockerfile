FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p api

FROM debian:bookworm-slim
RUN useradd --system --home /var/lib/alongside alongside && mkdir -p /var/lib/alongside \
    && chown alongside /var/lib/alongside
COPY --from=build /src/target/release/alongside /usr/local/bin/alongside
USER alongside
WORKDIR /var/lib/alongside
EXPOSE 8080
CMD ["alongside", "serve"]
