#!/bin/sh
# The tables of results/shipped/README.md: the randomised and the nominal-trained rover
# and drone CfC-NCP on the study's cue-preserving shifts (medium) and context shifts (high).
# Everything: sh results/shipped/regenerate.sh; the defaults behind auto-exposure alone: its
# last loop.
set -eu
cd "$(dirname "$0")/../.."
EPISODES=${EPISODES:-10}
. results/shipped/shifts.sh
table() {  # ROBOT OUT --model DIR...: the medium-shift and high-context tables of these models
    robot=$1; out=$2; shift 2
    liquid-control eval --task "$robot" "$@" $(shifts "$robot" medium) --episodes "$EPISODES" \
        --json "${out}_medium_shifts.json" --md "${out}_medium_shifts.md"
    liquid-control eval --task "$robot" "$@" $(shifts "$robot" high context) --no-nominal \
        --episodes "$EPISODES" \
        --json "${out}_high_context_shifts.json" --md "${out}_high_context_shifts.md"
}
for robot in rover drone; do  # the randomised and the nominal-trained CfC-NCP, same scenes
    table "$robot" "results/shipped/$robot" \
        --model "models/policies/${robot}_cfc_ncp_rand" --model "models/policies/${robot}_cfc_ncp"
done
# The randomised policies behind auto-exposure, the defaults (models/policies/*_cfc_ncp_rand_ae:
# the same weights, shipped with `liquid-control export models/policies/ROBOT_cfc_ncp_rand
# --ship models/policies/ROBOT_cfc_ncp_rand_ae --auto-exposure`), same scenes and shifts.
for robot in drone rover; do
    table "$robot" "results/shipped/${robot}_rand_ae" --model "models/policies/${robot}_cfc_ncp_rand_ae"
done
