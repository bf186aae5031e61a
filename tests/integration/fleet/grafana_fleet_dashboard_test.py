#!/usr/bin/env python3
"""deploy/grafana/fleet must not rot: its provisioning files parse and agree with each other, and every
panel's SQL runs on a real PostgreSQL (scripts/start-postgres.sh) holding two nodes' shipped telemetry,
after Grafana's substitution of $__from and $__to (ms), as the read-only role deploy/grafana/README.md sets
up, and returns rows; outside the data it returns none. The columns have the types Grafana's PostgreSQL
data source needs (a timestamp `time` and numeric values for a time series, one number for a stat).
There is no Grafana here: whether Grafana itself loads the files and draws the panels is not checked.

usage: grafana_fleet_dashboard_test.py FACEWEAVE_BINARY REPO_ROOT
Prints 'N passed, M failed' and exits non-zero on any failure.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import yaml

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import check, finish  # noqa: E402  (tests/integration/checks.py)

binary, root = sys.argv[1], sys.argv[2]
fleet = os.path.join(root, "deploy", "grafana", "fleet")


def expand(sql, start_ms, end_ms):
    sql = sql.replace("$__from", str(start_ms)).replace("$__to", str(end_ms))
    if "$__" in sql:
        raise ValueError("a Grafana macro or variable is left in the query: " + sql)
    return sql


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=600, **kw)


with open(os.path.join(fleet, "provisioning", "datasources", "fleet.yaml")) as f:
    datasources = yaml.safe_load(f)
with open(os.path.join(fleet, "provisioning", "dashboards", "fleet.yaml")) as f:
    providers = yaml.safe_load(f)
with open(os.path.join(fleet, "dashboards", "fleet.json")) as f:
    dashboard = json.load(f)

ds = datasources["datasources"][0]
check("built-in PostgreSQL data source", ds["type"] in ("postgres", "grafana-postgresql-datasource"), ds["type"])
check("password from the environment", ds["secureJsonData"]["password"].startswith("$"), "a literal password")
check("dashboard provider", providers["providers"][0]["type"] == "file", providers)
ids = [p["id"] for p in dashboard["panels"]]
check("unique panel ids", len(ids) == len(set(ids)), ids)

env = dict(os.environ, FACEWEAVE_TELEMETRY="off")
started = run([os.path.join(root, "scripts", "start-postgres.sh")])
check("start-postgres", started.returncode == 0, started.stdout + started.stderr)
url = re.search(r"FACEWEAVE_DATABASE_URL=([^;]+);", started.stdout).group(1)
pg_dir = re.search(r"FACEWEAVE_PG_DIR=([^;]+);", started.stdout).group(1)
try:
    with tempfile.TemporaryDirectory(prefix="faceweave-grafana-fleet-") as data:
        end_day = time.strftime("%Y-%m-%d", time.gmtime())
        for node, seed in (("a", "41"), ("b", "42")):
            d = os.path.join(data, node)
            sim = run([binary, "--data-dir", d, "--telemetry", "all", "telemetry", "simulate", "--users", "200",
                       "--days", "14", "--seed", seed, "--end", end_day], env=env)
            check(f"simulate {node}", sim.returncode == 0, sim.stdout + sim.stderr)
            ship = run([binary, "--data-dir", d, "telemetry", "ship", "--database-url", url], env=env)
            check(f"ship {node}", ship.returncode == 0, ship.stdout + ship.stderr)
        # The HyperLogLog panels need the extension: the test cluster's superuser installs it at the first
        # shipment, so those panels run on real sketches here, not on the exact fallback.
        hll = run(["psql", "-X", "-tA", url, "-c", "SELECT count(*) FROM pg_extension WHERE extname = 'hll'"])
        check("hll extension installed (postgresql-15-hll)", hll.stdout.strip() == "1", hll.stdout + hll.stderr)
        # Grafana logs in as a role that may only read, set up as deploy/grafana/README.md says (the tables'
        # owner here is `postgres`, there `faceweave`); every panel below runs as that role.
        grants = run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-c",
                      "CREATE ROLE faceweave_grafana LOGIN PASSWORD 'choose-one'; "
                      "GRANT SELECT ON ALL TABLES IN SCHEMA public TO faceweave_grafana; "
                      "ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public "
                      "GRANT SELECT ON TABLES TO faceweave_grafana"])
        check("read-only role for Grafana", grants.returncode == 0, grants.stderr)
        reader = url.replace("postgres://postgres@", "postgres://faceweave_grafana@", 1)
        write = run(["psql", "-X", "-tA", reader, "-c", "DELETE FROM faceweave_nodes"])
        check("the Grafana role cannot write", write.returncode != 0 and "permission denied" in write.stderr,
              write.stdout + write.stderr)
        end_ms = int(time.time() * 1000) + 86400000
        start_ms = end_ms - 20 * 86400000
        numeric = ("numeric", "bigint", "integer", "smallint", "double precision", "real")
        for p in dashboard["panels"]:
            name = p["title"]
            check(f"{name}: description", bool(p.get("description")), p)
            check(f"{name}: data source", p["datasource"]["uid"] == ds["uid"], p["datasource"])
            for t in p["targets"]:
                sql = t["rawSql"]
                check(f"{name}: bounded by the time range", "$__from" in sql and "$__to" in sql, sql)
                check(f"{name}: format", t.get("format") in ("time_series", "table"), t)
                # The columns' types as PostgreSQL describes them to a client (psql's \gdesc: name|type).
                desc = run(["psql", "-X", "-tA", "-v", "ON_ERROR_STOP=1", reader],
                           input=expand(sql, start_ms, end_ms) + "\n\\gdesc\n")
                columns = [tuple(l.split("|", 1)) for l in desc.stdout.splitlines() if "|" in l]
                check(f"{name}: described", desc.returncode == 0 and columns, desc.stdout + desc.stderr)
                types = dict(columns)
                if t.get("format") == "time_series":
                    # What Grafana's PostgreSQL data source makes a time series of: a timestamp column named
                    # `time`, numeric values, text columns as series labels.
                    check(f"{name}: time column", types.get("time", "").startswith("timestamp"), columns)
                    others = [c for c in columns if c[0] != "time"]
                    check(f"{name}: numeric values, text labels",
                          all(ty in numeric or ty == "text" for _, ty in others) and
                          any(ty in numeric for _, ty in others), columns)
                if p["type"] == "stat":
                    check(f"{name}: one numeric value", len(columns) == 1 and columns[0][1] in numeric, columns)
                for label, lo, hi, want_rows in (("range", start_ms, end_ms, True), ("empty range", 0, 1000, False)):
                    q = run(["psql", "-X", "-tA", "-v", "ON_ERROR_STOP=1", reader, "-c", expand(sql, lo, hi)])
                    check(f"{name}: runs on the {label} (read-only role)", q.returncode == 0,
                          q.stderr + expand(sql, lo, hi))
                    lines = [l for l in q.stdout.splitlines() if l.strip("|").strip()]
                    if want_rows:
                        check(f"{name}: returns rows", len(lines) > 0, q.stdout[:300])
                    else:
                        # Outside the data: no rows, or rows whose measure (the last column) is empty or 0.
                        check(f"{name}: empty outside the range",
                              all(l.split("|")[-1] in ("", "0", "0.0") for l in lines), q.stdout[:300])
finally:
    run([os.path.join(root, "scripts", "start-postgres.sh"), "--stop", pg_dir])

finish()
