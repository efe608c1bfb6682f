#!/usr/bin/env bash
# Load test: gunicorn with 4 workers on PostgreSQL, 50 concurrent users for 60 s, figures printed at the end.
#   bash scripts/loadtest/run.sh   (needs `pip install locust`, PostgreSQL on 127.0.0.1:5432)
set -euo pipefail
cd "$(dirname "$0")/../.."
DB=${LOAD_DATABASE:-test_load}
USERS=${USERS:-50}
DURATION=${DURATION:-60s}
psql -h 127.0.0.1 -U postgres -d postgres -qtc "SELECT 1 FROM pg_database WHERE datname='$DB'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE $DB"
export DATABASE_URL=postgresql://postgres@127.0.0.1:5432/$DB
.venv/bin/python scripts/loadtest/seed.py
# Development settings over plain HTTP (production cookies are Secure-only); debug stays off.
export APP_ENV=development SECRET_KEY=load-test-secret-key-that-is-long-enough-1234
export LOGIN_LIMIT_PER_IP="1000 per minute"
.venv/bin/gunicorn --workers 4 --bind 127.0.0.1:8765 --log-level warning 'app:create_app()' &
GUNICORN=$!
trap 'kill $GUNICORN 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -sf http://127.0.0.1:8765/healthz >/dev/null && break; sleep 0.2; done
mkdir -p test-artifacts
.venv/bin/locust -f scripts/loadtest/locustfile.py --headless -u "$USERS" -r 5 -t "$DURATION" \
  --host http://127.0.0.1:8765 --csv test-artifacts/load --only-summary ${LOCUST_EXTRA:-}
.venv/bin/python - <<'PY'
import csv
rows = list(csv.DictReader(open("test-artifacts/load_stats.csv")))
total = next(r for r in rows if r["Name"] == "Aggregated")
print(f"all requests: {total['Request Count']}, failures {total['Failure Count']}, p50 {total['50%']} ms, "
      f"p95 {total['95%']} ms, p99 {total['99%']} ms, {float(total['Requests/s']):.1f} req/s")
for r in rows:
    if r["Name"] != "Aggregated":
        print(f"  {r['Type']:<5} {r['Name']:<24} n={r['Request Count']:>5} failures={r['Failure Count']} "
              f"p50 {r['50%']} ms  p95 {r['95%']} ms")
PY
