# The `adflow` image: both APIs, the projections process, the platform workers, the sandbox and the
# tooling (migrate, audit, retention). It links no LibTorch (tests/binaries.rs checks the binary);
# the build stage needs LibTorch only because the workspace compiles the ML crate's bindings.
#   docker build -f ops/docker/api.Dockerfile -t adflow:dev .
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3-venv && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY ops/ml-requirements.txt ops/ml-requirements.txt
RUN python3 -m venv /opt/torch && /opt/torch/bin/pip install -q --no-cache-dir -r ops/ml-requirements.txt
ENV VIRTUAL_ENV=/opt/torch PATH=/opt/torch/bin:$PATH LIBTORCH_USE_PYTORCH=1
COPY . .
RUN cargo build --release --locked --bin adflow && cp target/release/adflow /adflow

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 adflow
COPY --from=build /adflow /usr/local/bin/adflow
USER 10001
# Listen on every interface inside the container; the ports are the local defaults.
ENV ADFLOW_COMMAND_API_ADDR=0.0.0.0:8080 ADFLOW_QUERY_API_ADDR=0.0.0.0:8081
EXPOSE 8080 8081
ENTRYPOINT ["/usr/local/bin/adflow"]
CMD ["all"]
