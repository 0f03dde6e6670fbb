# Python for the image on a Debian base, for hosts without a registry. Debian ships no 3.10
# (bullseye 3.9, bookworm 3.11) and the pinned dependencies (requirements.lock) need 3.10 while
# Rasa 3.6 refuses 3.11: so this is the interpreter the project's own tests run on
# (scripts/find-python.sh), copied by scripts/build-base-images.sh into ./python, on Debian's
# libraries. Laid out like the official image: /usr/local, `python` and `python3` on PATH.
ARG DEBIAN_BASE
FROM ${DEBIAN_BASE}
# This host's own trust anchors (e.g. a company proxy's CA; the script copies them here),
# and pip told to use Debian's store, which holds them, instead of its own copy.
COPY local-ca/ /usr/local/share/ca-certificates/
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libssl3 libsqlite3-0 libffi8 libbz2-1.0 \
       liblzma5 zlib1g libreadline8 libncursesw6 libexpat1 libuuid1 libgdbm6 libnsl2 libtirpc3 \
    && rm -rf /var/lib/apt/lists/*
COPY python/ /usr/local/
ARG PYTHON_VERSION
RUN ldconfig \
    && ln -sf "python${PYTHON_VERSION}" /usr/local/bin/python3 \
    && ln -sf "python${PYTHON_VERSION}" /usr/local/bin/python \
    && python -c "import ssl, sqlite3, ctypes, lzma, bz2, zlib, venv, ensurepip"
CMD ["python3"]
