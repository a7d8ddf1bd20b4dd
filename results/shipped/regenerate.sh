#!/bin/sh
# The tables of results/shipped/README.md: the randomised and the nominal-trained rover
# and drone CfC-NCP on the study's cue-preserving shifts (medium) and context shifts (high).
set -eu
cd "$(dirname "$0")/../.."
EPISODES=${EPISODES:-10}
shifts() {  # robot severity [kind]: --perturb FILE for every cue-preserving shift
    python -c "
import sys
from liquid_control.sim.shifts import load_index
robot, severity, kind = sys.argv[1], sys.argv[2], (sys.argv[3:] or [None])[0]
print(' '.join('--perturb ' + str(s.file) for s in load_index().select(robot, cue_preserving=True, severity=severity) if kind in (None, s.kind.value)))
" "$@"
}
MODELS="--model models/policies/rover_cfc_ncp_rand --model models/policies/rover_cfc_ncp"
liquid-control eval --task rover $MODELS $(shifts rover medium) --episodes "$EPISODES" \
    --json results/shipped/rover_medium_shifts.json --md results/shipped/rover_medium_shifts.md
liquid-control eval --task rover $MODELS $(shifts rover high context) --no-nominal \
    --episodes "$EPISODES" \
    --json results/shipped/rover_high_context_shifts.json --md results/shipped/rover_high_context_shifts.md
DRONES="--model models/policies/drone_cfc_ncp_rand --model models/policies/drone_cfc_ncp"
liquid-control eval --task drone $DRONES $(shifts drone medium) --episodes "$EPISODES" \
    --json results/shipped/drone_medium_shifts.json --md results/shipped/drone_medium_shifts.md
liquid-control eval --task drone $DRONES $(shifts drone high context) --no-nominal \
    --episodes "$EPISODES" \
    --json results/shipped/drone_high_context_shifts.json --md results/shipped/drone_high_context_shifts.md
