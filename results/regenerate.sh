#!/bin/sh
# Regenerate everything in results/: demonstrations, every model, closed-loop evaluation.
# Run from the repository root with the package installed (`liquid-control` on PATH):
#   sh results/regenerate.sh            # full run (about 2-3 hours on 2 CPU cores)
#   EPISODES=4 MINUTES=2 sh results/regenerate.sh   # a quick smoke run
# Shipped policies come from the same runs: python -m liquid_control.learn.ship runs/X models/policies/X
set -eu
EPISODES=${EPISODES:-20}     # evaluation episodes per (model, perturbation) cell
MINUTES=${MINUTES:-20}       # training budget per model (early stopping may end it sooner)
WORKERS=${WORKERS:-2}
SHIFTS="autumn snow rain dusk noise distractors"
PERTURB=""
for s in $SHIFTS; do PERTURB="$PERTURB --perturb config/perturbations/$s.yaml"; done

# 1. demonstrations: the privileged expert with injected action noise, as rosbag2
[ -d data/rover ] || liquid-control collect --robot rover --out data/rover --episodes 80 --workers "$WORKERS"
[ -d data/drone ] || liquid-control collect --robot drone --out data/drone --episodes 150 --workers "$WORKERS"

# 2. training: the liquid policies and the baselines share the encoder and the data
# (as measured: the CfC-NCPs had 20 minutes; rover baselines at most 800 window batches,
#  drone baselines at most 580 = what the drone CfC-NCP reached in its 20 minutes)
for core in cfc_ncp ltc_ncp cfc_fc lstm gru mlp; do
  [ -f "runs/rover_$core/best/config.json" ] || liquid-control train config/train/rover_cfc_ncp.yaml \
    --policy.core=$core --out_dir=runs/rover_$core --optim.max_minutes="$MINUTES" --optim.max_steps=800
done
for core in cfc_ncp ltc_ncp cfc_fc lstm gru mlp; do
  [ -f "runs/drone_$core/best/config.json" ] || liquid-control train config/train/drone_cfc_ncp.yaml \
    --policy.core=$core --out_dir=runs/drone_$core --optim.max_minutes="$MINUTES" --optim.max_steps=580
done

# 3. evaluation through the runtime (numpy backend), nominal + each shift, same seeds for all
ROVER_MODELS="--model models/policies/rover_cfc_ncp"
for core in ltc_ncp cfc_fc lstm gru mlp; do ROVER_MODELS="$ROVER_MODELS --model runs/rover_$core/best"; done
# shellcheck disable=SC2086
liquid-control eval --task rover $ROVER_MODELS $PERTURB --episodes "$EPISODES" --workers "$WORKERS" \
  --json results/rover.json --csv results/rover.csv --md results/rover.md --plot results/rover.png
# stress tests (results/perturbations/*.yaml): harder shifts that separate the models
STRESS=""
for s in white_lanes heavy_rain heavy_noise frame_drops; do STRESS="$STRESS --perturb results/perturbations/$s.yaml"; done
# shellcheck disable=SC2086
liquid-control eval --task rover $ROVER_MODELS $STRESS --no-nominal --episodes 16 --workers "$WORKERS" \
  --json results/rover_stress.json --csv results/rover_stress.csv --md results/rover_stress.md \
  --plot results/rover_stress.png
DRONE_MODELS="--model models/policies/drone_cfc_ncp"
for core in ltc_ncp cfc_fc lstm gru mlp; do DRONE_MODELS="$DRONE_MODELS --model runs/drone_$core/best"; done
# shellcheck disable=SC2086
liquid-control eval --task drone $DRONE_MODELS $PERTURB \
  --perturb config/perturbations/wind.yaml --episodes "$EPISODES" --workers "$WORKERS" \
  --json results/drone.json --csv results/drone.csv --md results/drone.md --plot results/drone.png

# 4. attention stability (SSIM of saliency maps, nominal vs shifted): results/*_saliency.{md,json}
for robot in rover drone; do
  M="--model models/policies/${robot}_cfc_ncp"
  for core in ltc_ncp cfc_fc lstm gru mlp; do M="$M --model runs/${robot}_$core/best"; done
  # shellcheck disable=SC2086
  liquid-control eval --task "$robot" $M $PERTURB --no-nominal --episodes 2 --saliency-episodes 3 \
    --workers "$WORKERS" --md "results/${robot}_saliency.md" --json "results/${robot}_saliency.json"
done
