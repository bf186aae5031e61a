"""Pass/fail counting for the integration tests written as Python scripts (CTest runs each as a program):
every check is counted, a failed one is printed with its detail, and finish() prints 'N passed, M failed'
and exits non-zero on any failure. Used by server/grafana_dashboard_test.py and
fleet/grafana_fleet_dashboard_test.py, which import it with this folder on sys.path.
"""
import sys

passed = 0
failed = 0


def check(name, ok, detail=""):
    """Counts one check; prints 'FAIL name: detail' when ok is false. Returns ok."""
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {name}: {detail}")
    return bool(ok)


def finish():
    """Prints the counts and exits: 0 when every check passed (and at least one ran), 1 otherwise."""
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed or not passed else 0)
