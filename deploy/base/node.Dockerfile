# Node and npm from Debian's packages: only the image's build stage uses them (npm ci of web/).
ARG DEBIAN_BASE
FROM ${DEBIAN_BASE}
# This host's own trust anchors, as in python.Dockerfile; node reads Debian's store through this.
COPY local-ca/ /usr/local/share/ca-certificates/
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
RUN apt-get update \
    && apt-get install -y --no-install-recommends nodejs npm ca-certificates \
    && rm -rf /var/lib/apt/lists/*
