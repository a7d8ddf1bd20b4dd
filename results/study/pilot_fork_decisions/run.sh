#!/bin/sh
# Pilot 3 (results/study/pilot_fork_decisions/README.md), from the repository root:
#   sh results/study/pilot_fork_decisions/run.sh
# A first; B, C and D then start from copies of A's collect, encoder and tune units (units
# whose keys match are skipped, any other is run again). Resumable: run it again.
set -e
PY=${PY:-.venv/bin/python}
W=runs/study/pilot_fork_decisions
$PY -m liquid_control.cli study config/study/pilot_fork_decisions.yaml --no-progress
for v in weighted longer longest; do
  mkdir -p $W/$v
  for s in collect encoder tune; do
    [ -d $W/$v/$s ] || cp -r $W/base/$s $W/$v/
  done
  $PY -m liquid_control.cli study config/study/pilot_fork_decisions_$v.yaml --no-progress
done
$PY results/study/pilot_fork_decisions/compare.py --md results/study/pilot_fork_decisions/compare.md
