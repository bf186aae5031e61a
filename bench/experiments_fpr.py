#!/usr/bin/env python3
"""False-positive rates of the experiment tests under no effect (docs/experiments.md, "Calibration").

A model of `faceweave experiments simulate` (400 users over 14 days, each with their own rate around 0.3,
sd 0.15; 1-3 runs per active day, a return on a later day with probability 0.3; arms 50/50), without the
database: it separates what the final-day z-test's false-positive rate depends on.

  delta        the view's fixed-horizon z-test at the end: users as the unit, delta-method variance
  naive_runs   the same difference with runs treated as independent (binomial variance over runs)
  user_mean_t  Welch's test on per-user rates (another user-level test, for comparison)
  delta_peek   the view's z-test looked at after every day, "significant" at the first look below alpha

Usage: /usr/bin/python3 bench/experiments_fpr.py [REPLICATES=20000] [SEED=11]   (numpy)
"""
import sys
from math import erfc, sqrt

import numpy as np

REPS = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
rng = np.random.default_rng(int(sys.argv[2]) if len(sys.argv) > 2 else 11)
USERS, DAYS, BASE, SPREAD, RETURN, ALPHA, BURN_IN = 400, 14, 0.3, 0.15, 0.3, 0.05, 20


def delta_variance(x, n):
    """Variance of sum(x)/sum(n) with users as the unit (Deng, Knoblich & Lu, KDD 2018)."""
    mx, mn = x.mean(), n.mean()
    vx, vn, cxn = x.var(ddof=1), n.var(ddof=1), np.cov(x, n, ddof=1)[0, 1]
    return (vx / mn**2 - 2 * mx * cxn / mn**3 + mx**2 * vn / mn**4) / len(x)


def p_value(z):
    return erfc(abs(z) / sqrt(2))


rejected = dict(delta=0, naive_runs=0, user_mean_t=0, delta_peek=0)
days = np.arange(DAYS)
for _ in range(REPS):
    arm = rng.random(USERS) < 0.5
    own = np.clip(BASE + SPREAD * rng.standard_normal(USERS), 0, 1)
    start = (rng.random(USERS) * DAYS).astype(int)
    active = (days == start[:, None]) | ((days > start[:, None]) & (rng.random((USERS, DAYS)) < RETURN))
    runs = np.where(active, 1 + (rng.random((USERS, DAYS)) * 3).astype(int), 0)
    hits = rng.binomial(runs, own[:, None])
    x, n = hits.sum(1).astype(float), runs.sum(1).astype(float)
    a, b = ~arm, arm
    ra, rb = x[a].sum() / n[a].sum(), x[b].sum() / n[b].sum()
    rejected["delta"] += p_value((rb - ra) / sqrt(delta_variance(x[a], n[a]) + delta_variance(x[b], n[b]))) < ALPHA
    naive = ra * (1 - ra) / n[a].sum() + rb * (1 - rb) / n[b].sum()
    rejected["naive_runs"] += p_value((rb - ra) / sqrt(naive)) < ALPHA
    ua, ub = x[a] / n[a], x[b] / n[b]
    welch = ua.var(ddof=1) / len(ua) + ub.var(ddof=1) / len(ub)
    rejected["user_mean_t"] += p_value((ub.mean() - ua.mean()) / sqrt(welch)) < ALPHA
    cx, cn = np.cumsum(hits, 1), np.cumsum(runs, 1)
    for day in range(DAYS):
        seen = cn[:, day] > 0
        sa, sb = seen & a, seen & b
        if sa.sum() < BURN_IN or sb.sum() < BURN_IN:
            continue
        xa, na = cx[sa, day].astype(float), cn[sa, day].astype(float)
        xb, nb = cx[sb, day].astype(float), cn[sb, day].astype(float)
        v = delta_variance(xa, na) + delta_variance(xb, nb)
        if v > 0 and p_value((xb.sum() / nb.sum() - xa.sum() / na.sum()) / sqrt(v)) < ALPHA:
            rejected["delta_peek"] += 1
            break
for name, count in rejected.items():
    p = count / REPS
    se = sqrt(p * (1 - p) / REPS)
    print(f"{name:12s} {count:6d}/{REPS}  {100 * p:5.2f}%  (95% CI {100 * (p - 1.96 * se):.2f}-{100 * (p + 1.96 * se):.2f}%)")
