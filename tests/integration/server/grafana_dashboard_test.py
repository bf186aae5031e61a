#!/usr/bin/env python3
"""deploy/grafana must not rot: its provisioning files parse and agree with each other, and every panel's
SQL runs on a real telemetry database made by `faceweave telemetry simulate`, after the substitutions that
Grafana (`$__from`, `$__to`, in ms) and the frser-sqlite-datasource plugin (`$__unixEpochGroupSeconds`) make.

usage: grafana_dashboard_test.py FACEWEAVE_BINARY REPO_ROOT
Prints 'N passed, M failed' and exits non-zero on any failure.
"""
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time

import yaml

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import check, finish  # noqa: E402  (tests/integration/checks.py)

binary, root = sys.argv[1], sys.argv[2]
grafana = os.path.join(root, "deploy", "grafana")


def expand(sql, start_ms, end_ms, k=5):
    """What reaches SQLite: Grafana interpolates $__from and $__to (ms) and the dashboard's constant $k (the
    k of k-anonymity, 5), then the plugin expands its only macro, $__unixEpochGroupSeconds(column, seconds),
    with the pattern it uses; anything left is an error."""
    sql = sql.replace("$__from", str(start_ms)).replace("$__to", str(end_ms)).replace("$k", str(k))

    def group(m):
        if m.group(1) != "unixEpochGroupSeconds":
            raise ValueError(f"the plugin has no macro $__{m.group(1)}")
        args = m.group(2).split(",")
        return f"cast(({args[0]} / {int(args[1])}) as int) * {int(args[1])}"

    sql = re.sub(r"\$__([_a-zA-Z0-9]+)\(([^\)]*)\)", group, sql)
    if "$__" in sql:
        raise ValueError("a variable is left in the query: " + sql)
    return sql


with open(os.path.join(grafana, "provisioning", "datasources", "faceweave.yaml")) as f:
    datasources = yaml.safe_load(f)
with open(os.path.join(grafana, "provisioning", "dashboards", "faceweave.yaml")) as f:
    providers = yaml.safe_load(f)
with open(os.path.join(grafana, "dashboards", "faceweave.json")) as f:
    dashboard = json.load(f)

ds = datasources["datasources"][0]
check("datasource plugin", ds["type"] == "frser-sqlite-datasource", ds["type"])
check("datasource path", ds["jsonData"]["path"].endswith("/telemetry/events.db"), ds["jsonData"]["path"])
check("datasource read-only", "mode=ro" in ds["jsonData"].get("pathOptions", ""), ds["jsonData"])
check("dashboard provider", providers["providers"][0]["type"] == "file", providers)

views = ["usage", "heatmap", "actions", "errors", "latency", "defaults", "funnel", "retention"]
titles = " ".join(p["title"].lower() for p in dashboard["panels"])
for v in views:
    check(f"a panel for the {v} view", v in titles, titles)
ids = [p["id"] for p in dashboard["panels"]]
check("unique panel ids", len(ids) == len(set(ids)), ids)

with tempfile.TemporaryDirectory(prefix="faceweave-grafana-") as data:
    end_day = time.strftime("%Y-%m-%d", time.gmtime())
    sim = subprocess.run([binary, "--data-dir", data, "--telemetry", "all", "telemetry", "simulate", "--users",
                          "300", "--days", "28", "--seed", "11", "--end", end_day],
                         capture_output=True, text=True, timeout=600)
    check("telemetry simulate", sim.returncode == 0, sim.stdout + sim.stderr)
    db = sqlite3.connect(f"file:{os.path.join(data, 'telemetry', 'events.db')}?mode=ro", uri=True)
    end_ms = int(time.time() * 1000) + 86400000
    start_ms = end_ms - 35 * 86400000
    results = {}
    for p in dashboard["panels"]:
        name = p["title"]
        check(f"{name}: description", bool(p.get("description")), p)
        check(f"{name}: data source", p["datasource"]["uid"] == ds["uid"], p["datasource"])
        for t in p["targets"]:
            sql = t["queryText"]
            check(f"{name}: raw schema only", "ax_" not in sql, sql)
            check(f"{name}: bounded by the time range", "$__from" in sql and "$__to" in sql, sql)
            check(f"{name}: weighted by 1/sample_rate", "sample_rate" in sql, sql)
            if t.get("queryType") == "time series":
                check(f"{name}: time column", t.get("timeColumns") == ["time"], t)
            try:
                cur = db.execute(expand(sql, start_ms, end_ms))
                rows = cur.fetchall()
                cols = [c[0] for c in cur.description]
                results[name] = (cols, rows)
                check(f"{name}: returns rows", len(rows) > 0, "no rows")
            except (sqlite3.Error, ValueError) as e:
                check(f"{name}: runs", False, f"{e}\n{expand(sql, start_ms, end_ms)}")
            # Outside the data the same query finds nothing (no rows, or empty aggregates): it is bounded.
            try:
                far = db.execute(expand(sql, 0, 1000)).fetchall()
                check(f"{name}: empty outside the range", all(r[-1] in (None, 0) for r in far), far[:3])
            except (sqlite3.Error, ValueError) as e:
                check(f"{name}: runs on an empty range", False, str(e))

    # A few numbers the simulation is known for (docs/analytics.md "simulate").
    funnel = [r[2] for r in results.get("Funnel: web UI uploads to downloads", ([], []))[1]]
    check("funnel narrows", len(funnel) == 4 and funnel[0] > 0 and funnel == sorted(funnel, reverse=True), funnel)
    errors = results.get("Errors: by code", ([], []))[1]
    check("errors: no_face is the most common code", bool(errors) and errors[0][0] == "no_face", errors[:3])
    usage = results.get("Usage: swap runs per day", ([], []))[1]
    check("usage: daily buckets", bool(usage) and all(r[0] % 86400 == 0 for r in usage), usage[:3])
    retention = results.get("Retention: weekly, users first seen in the range", ([], []))[1]
    check("retention: week 0 is the whole cohort", bool(retention) and retention[0][0] == 0 and
          abs(retention[0][3] - 100.0) < 0.01 and retention[0][1] == retention[0][2], retention[:3])
    # The defaults panel lists the on-by-default switches in its SQL: they must be the ones faceweave's own
    # analytics derives from the option defaults (a changed default would otherwise drift unnoticed).
    panel_sql = next(t["queryText"] for p in dashboard["panels"] if p["title"].startswith("Defaults")
                     for t in p["targets"])
    values = panel_sql[panel_sql.index("VALUES"):panel_sql.index("),\nactive")]
    panel_pairs = set(re.findall(r"\('(\w+)', '(\w+)', '(\w+)'\)", values))
    cli = subprocess.run([binary, "--data-dir", data, "--telemetry", "off", "insights", "defaults", "--json"],
                         capture_output=True, text=True, timeout=120)
    check("insights defaults", cli.returncode == 0, cli.stdout + cli.stderr)
    cli_pairs = {(r["option"], r["switched_to"], r["default"]) for r in json.loads(cli.stdout)["rows"]}
    check("defaults panel: the switches faceweave knows", panel_pairs == cli_pairs,
          f"panel {sorted(panel_pairs)} vs insights {sorted(cli_pairs)}")
    db.close()

# k-anonymity: on a history of one user every panel hides that user's cells (no row, NULL, or 0 for an empty
# cell); with k = 1 the same panels show numbers, so the check is not vacuous.
KEYS = {"time", "hour", "step", "week"}
check("the dashboard declares k = 5", any(v.get("name") == "k" and v.get("query") == "5"
                                          for v in dashboard.get("templating", {}).get("list", [])), dashboard.get("templating"))
with tempfile.TemporaryDirectory(prefix="faceweave-grafana-one-") as data:
    end_day = time.strftime("%Y-%m-%d", time.gmtime())
    sim = subprocess.run([binary, "--data-dir", data, "--telemetry", "all", "telemetry", "simulate", "--users",
                          "1", "--days", "14", "--seed", "3", "--end", end_day],
                         capture_output=True, text=True, timeout=600)
    check("telemetry simulate (one user)", sim.returncode == 0, sim.stdout + sim.stderr)
    db = sqlite3.connect(f"file:{os.path.join(data, 'telemetry', 'events.db')}?mode=ro", uri=True)
    check("one user has events", db.execute("SELECT count(*) FROM events").fetchone()[0] > 0)
    end_ms = int(time.time() * 1000) + 86400000
    start_ms = end_ms - 35 * 86400000
    shown_at_k1 = 0
    for p in dashboard["panels"]:
        for t in p["targets"]:
            cur = db.execute(expand(t["queryText"], start_ms, end_ms))
            cols = [c[0] for c in cur.description]
            leaked = [r for r in cur.fetchall()
                      if any(isinstance(v, (int, float)) and v != 0 and c not in KEYS for c, v in zip(cols, r))]
            check(f"{p['title']}: a cell of one user is hidden", not leaked, leaked[:3])
            rows = db.execute(expand(t["queryText"], start_ms, end_ms, k=1)).fetchall()
            shown_at_k1 += any(isinstance(v, (int, float)) and v != 0 and c not in KEYS
                               for r in rows for c, v in zip(cols, r))
    check("k = 1 shows the one user's numbers", shown_at_k1 >= 3, shown_at_k1)
    db.close()

finish()
