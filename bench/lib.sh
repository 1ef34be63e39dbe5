# Helpers shared by the benchmark scripts: sourced, not run.

now() { date +%s.%N; }
calc() { awk "BEGIN { print $1 }"; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
ms() { # wrk latency (850.00us, 12.3ms, 1.2s) -> ms
    python3 -c "
import sys
v = sys.argv[1]
for unit, f in (('us', 0.001), ('ms', 1.0), ('s', 1000.0)):
    if v.endswith(unit):
        print(round(float(v[:-len(unit)]) * f, 2)); break
" "$1"
}
sql() { # backend URL query -> rows (tab-separated)
    if [ "$1" = sqlite ]; then sqlite3 -separator $'\t' "${2#sqlite://}" "$3"; else psql -At -F $'\t' "$2" -c "$3"; fi
}
stop() { # the server started last, if any
    if [ -n "${SERVER:-}" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
    SERVER=""
}

# Starts a benchmark run: a work directory (WORK), a throwaway PostgreSQL cluster (its admin
# URL in PG_ADMIN), and one exit trap that stops the server and the cluster and removes the
# work directory, pass or fail. The trap is set after the cluster starts, since starting it
# sets a trap of its own.
bench_init() { # name
    WORK=$(mktemp -d "/tmp/ngoso-$1.XXXXXX")
    SERVER=""
    . scripts/pg-throwaway.sh
    # Shared buffers as a database server would have them: PostgreSQL's default, 128 MB, is
    # sized to start on any machine, and holds less than the households of the benchmarks.
    # 2 GB is a twelfth of this machine's memory (the usual advice is a quarter).
    PG_THROWAWAY_OPTS="-c shared_buffers=2GB" pg_throwaway_start >/dev/null
    trap 'stop; rm -rf "$WORK"; pg_throwaway_stop' EXIT
    PG_ADMIN=$NGOSO_TEST_DATABASE_URL
    unset NGOSO_TEST_DATABASE_URL
    export NGOSO_LOG=warn NGOSO_LANG=en
}

new_db() { # backend name -> URL of a new, empty database
    if [ "$1" = sqlite ]; then
        echo "sqlite://$WORK/$2.db"
    else
        psql -q "$PG_ADMIN" -c "CREATE DATABASE $2" >/dev/null
        echo "${PG_ADMIN%/*}/$2"
    fi
}
