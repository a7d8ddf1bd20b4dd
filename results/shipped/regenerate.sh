#!/bin/sh
# The tables of results/shipped/README.md: the randomised and the nominal-trained rover
# and drone CfC-NCP on the study's cue-preserving shifts (medium) and context shifts (high).
# Everything: sh results/shipped/regenerate.sh; the drone behind auto-exposure alone: its last
# block (the lines after "drone_rand_ae").
set -eu
cd "$(dirname "$0")/../.."
EPISODES=${EPISODES:-10}
. results/shipped/shifts.sh
for robot in rover drone; do  # the randomised and the nominal-trained CfC-NCP, same scenes
    MODELS="--model models/policies/${robot}_cfc_ncp_rand --model models/policies/${robot}_cfc_ncp"
    out=results/shipped/$robot
    liquid-control eval --task "$robot" $MODELS $(shifts "$robot" medium) --episodes "$EPISODES" \
        --json "${out}_medium_shifts.json" --md "${out}_medium_shifts.md"
    liquid-control eval --task "$robot" $MODELS $(shifts "$robot" high context) --no-nominal \
        --episodes "$EPISODES" \
        --json "${out}_high_context_shifts.json" --md "${out}_high_context_shifts.md"
done
# The randomised drone behind auto-exposure (models/policies/drone_cfc_ncp_rand_ae: the weights
# of drone_cfc_ncp_rand, shipped with `liquid-control export models/policies/drone_cfc_ncp_rand
# --ship models/policies/drone_cfc_ncp_rand_ae --auto-exposure`), same scenes and shifts.
out=results/shipped/drone_rand_ae
liquid-control eval --task drone --model models/policies/drone_cfc_ncp_rand_ae \
    $(shifts drone medium) --episodes "$EPISODES" \
    --json "${out}_medium_shifts.json" --md "${out}_medium_shifts.md"
liquid-control eval --task drone --model models/policies/drone_cfc_ncp_rand_ae \
    $(shifts drone high context) --no-nominal --episodes "$EPISODES" \
    --json "${out}_high_context_shifts.json" --md "${out}_high_context_shifts.md"
# The randomised rover behind auto-exposure (models/policies/rover_cfc_ncp_rand_ae, shipped like the
# drone's: `liquid-control export models/policies/rover_cfc_ncp_rand --ship
# models/policies/rover_cfc_ncp_rand_ae --auto-exposure`), same scenes and shifts.
out=results/shipped/rover_rand_ae
liquid-control eval --task rover --model models/policies/rover_cfc_ncp_rand_ae \
    $(shifts rover medium) --episodes "$EPISODES" \
    --json "${out}_medium_shifts.json" --md "${out}_medium_shifts.md"
liquid-control eval --task rover --model models/policies/rover_cfc_ncp_rand_ae \
    $(shifts rover high context) --no-nominal --episodes "$EPISODES" \
    --json "${out}_high_context_shifts.json" --md "${out}_high_context_shifts.md"
