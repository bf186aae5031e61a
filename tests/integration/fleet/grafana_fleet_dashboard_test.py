#!/usr/bin/env python3
"""deploy/grafana/fleet must not rot: its provisioning files parse and agree with each other, and every
panel's SQL runs on a real PostgreSQL (scripts/start-postgres.sh) holding two nodes' shipped telemetry,
after Grafana's substitution of $__from and $__to (ms), and returns rows; outside the data it returns none.

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

binary, root = sys.argv[1], sys.argv[2]
fleet = os.path.join(root, "deploy", "grafana", "fleet")
passed, failed = 0, 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {name}: {detail}")


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
        end_ms = int(time.time() * 1000) + 86400000
        start_ms = end_ms - 20 * 86400000
        for p in dashboard["panels"]:
            name = p["title"]
            check(f"{name}: description", bool(p.get("description")), p)
            check(f"{name}: data source", p["datasource"]["uid"] == ds["uid"], p["datasource"])
            for t in p["targets"]:
                sql = t["rawSql"]
                check(f"{name}: bounded by the time range", "$__from" in sql and "$__to" in sql, sql)
                check(f"{name}: format", t.get("format") in ("time_series", "table"), t)
                if t.get("format") == "time_series":
                    check(f"{name}: time column", " AS time" in sql, sql)
                for label, lo, hi, want_rows in (("range", start_ms, end_ms, True), ("empty range", 0, 1000, False)):
                    q = run(["psql", "-X", "-tA", "-v", "ON_ERROR_STOP=1", url, "-c", expand(sql, lo, hi)])
                    check(f"{name}: runs on the {label}", q.returncode == 0, q.stderr + expand(sql, lo, hi))
                    lines = [l for l in q.stdout.splitlines() if l.strip("|").strip()]
                    if want_rows:
                        check(f"{name}: returns rows", len(lines) > 0, q.stdout[:300])
                    else:
                        # Outside the data: no rows, or rows whose measure (the last column) is empty or 0.
                        check(f"{name}: empty outside the range",
                              all(l.split("|")[-1] in ("", "0", "0.0") for l in lines), q.stdout[:300])
finally:
    run([os.path.join(root, "scripts", "start-postgres.sh"), "--stop", pg_dir])

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
