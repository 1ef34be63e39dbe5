# Sourced by scripts/test and .ci/run: starts a throwaway PostgreSQL cluster in a temporary
# directory on a free local port, exports NGOSO_TEST_DATABASE_URL, and stops and removes the
# cluster when the calling shell exits, pass or fail. PG_THROWAWAY_OPTS adds server options
# (the benchmarks give the server memory as a database server would have).

pg_bindir() {
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
    done
    if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then pg_config --bindir; return 0; fi
    return 1
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null && return 0
    local p
    for p in $(seq 55432 55532); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
    done
    return 1
}

pg_throwaway_start() {
    local bindir
    bindir=$(pg_bindir) || { echo "PostgreSQL server binaries not found: install them (Debian: apt-get install postgresql)" >&2; return 1; }
    PG_TMP=$(mktemp -d /tmp/ngoso-pg.XXXXXX)
    PG_PORT=$(free_port) || { echo "no free local port for PostgreSQL" >&2; return 1; }
    # PostgreSQL refuses to run as root: run it as the unprivileged 'postgres' user then.
    PG_AS=()
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
        chown postgres "$PG_TMP"
        PG_AS=(runuser -u postgres --)
    fi
    "${PG_AS[@]}" "$bindir/initdb" -D "$PG_TMP/data" -U postgres --auth=trust -E UTF8 --no-locale >"$PG_TMP/initdb.log" 2>&1 \
        || { cat "$PG_TMP/initdb.log" >&2; return 1; }
    "${PG_AS[@]}" "$bindir/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/server.log" -w -t 60 \
        -o "-p $PG_PORT -k $PG_TMP -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 ${PG_THROWAWAY_OPTS:-}" \
        start >/dev/null || { cat "$PG_TMP/server.log" >&2; return 1; }
    PG_BINDIR=$bindir
    trap pg_throwaway_stop EXIT
    export NGOSO_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
    echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') for the tests on 127.0.0.1:$PG_PORT (throwaway cluster in $PG_TMP)"
}

pg_throwaway_stop() {
    if [ -n "${PG_TMP:-}" ] && [ -d "$PG_TMP/data" ]; then
        "${PG_AS[@]}" "$PG_BINDIR/pg_ctl" -D "$PG_TMP/data" -m immediate stop >/dev/null 2>&1 || true
        rm -rf "$PG_TMP"
        echo "PostgreSQL test cluster stopped"
    fi
}
