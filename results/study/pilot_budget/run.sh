#!/bin/sh
# Pilot 4 (results/study/pilot_budget/README.md), from the repository root:
#   sh results/study/pilot_budget/run.sh
# A (lr 3e-3) first; B (lr 1e-2) starts from copies of A's collect and encoder units (units
# whose keys match are skipped, any other is run again). Resumable: run it again.
set -e
PY=${PY:-.venv/bin/python}
W=runs/study/pilot_budget
$PY -m liquid_control.cli study config/study/pilot_budget.yaml --no-progress
mkdir -p $W/lr1e2
for s in collect encoder; do
  [ -d $W/lr1e2/$s ] || cp -r $W/lr3e3/$s $W/lr1e2/
done
$PY -m liquid_control.cli study config/study/pilot_budget_lr1e2.yaml --no-progress
$PY results/study/pilot_budget/curves.py --md results/study/pilot_budget/curves.md \
    --png results/study/pilot_budget/curves.png
