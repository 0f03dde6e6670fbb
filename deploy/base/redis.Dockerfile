# Redis from Debian's packages. Like the official image, a `redis-server ...` command line
# runs with protected mode off: compose's private network is its only way in.
ARG DEBIAN_BASE
FROM ${DEBIAN_BASE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends redis-server \
    && rm -rf /var/lib/apt/lists/* \
    && printf '#!/bin/sh\nif [ "$1" = redis-server ]; then exec "$@" --protected-mode no; fi\nexec "$@"\n' \
       >/usr/local/bin/redis-entrypoint \
    && chmod +x /usr/local/bin/redis-entrypoint
USER redis
WORKDIR /var/lib/redis
EXPOSE 6379
ENTRYPOINT ["/usr/local/bin/redis-entrypoint"]
CMD ["redis-server"]
