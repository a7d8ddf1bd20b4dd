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
for robot in rover drone; do  # the randomised and the nominal-trained CfC-NCP, same scenes
    MODELS="--model models/policies/${robot}_cfc_ncp_rand --model models/policies/${robot}_cfc_ncp"
    out=results/shipped/$robot
    liquid-control eval --task "$robot" $MODELS $(shifts "$robot" medium) --episodes "$EPISODES" \
        --json "${out}_medium_shifts.json" --md "${out}_medium_shifts.md"
    liquid-control eval --task "$robot" $MODELS $(shifts "$robot" high context) --no-nominal \
        --episodes "$EPISODES" \
        --json "${out}_high_context_shifts.json" --md "${out}_high_context_shifts.md"
done
