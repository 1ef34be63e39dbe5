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
stop() { kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null || true; SERVER=""; }
