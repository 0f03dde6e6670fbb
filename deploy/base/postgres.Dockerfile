# PostgreSQL from Debian's packages, with the official image's interface where compose relies
# on it: POSTGRES_USER/POSTGRES_PASSWORD/POSTGRES_DB create a superuser and a database on the
# first start, the data lives in /var/lib/postgresql/data (a named volume), `postgres -c ...`
# passes settings, pg_isready is on PATH.
ARG DEBIAN_BASE
FROM ${DEBIAN_BASE}
ARG PG_MAJOR=15
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-${PG_MAJOR} \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
    && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
ENV PATH=/usr/lib/postgresql/${PG_MAJOR}/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint.sh
USER postgres
VOLUME /var/lib/postgresql/data
EXPOSE 5432
ENTRYPOINT ["/usr/local/bin/postgres-entrypoint.sh"]
CMD ["postgres"]
