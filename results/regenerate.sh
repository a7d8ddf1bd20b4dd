#!/bin/sh
# Regenerate results/: demonstrations, the liquid policies, closed-loop evaluation nominal,
# under shifts and at other sensor rates, the dynamics probes and the time-unit ablation.
# Run from the repository root with the package installed (`liquid-control` on PATH):
#   sh results/regenerate.sh                        # full run (about 2 hours on 2 CPU cores)
#   EPISODES=4 MINUTES=2 sh results/regenerate.sh   # a quick smoke run
# Every step is skipped when its output exists, so an interrupted run resumes where it stopped
# (a training run interrupted mid-way continues with `liquid-control train ... --resume`).
set -eu
EPISODES=${EPISODES:-20}        # evaluation episodes per (model, perturbation) cell
RATE_EPISODES=${RATE_EPISODES:-10}
MINUTES=${MINUTES:-20}          # training budget per model (wall clock)
WORKERS=${WORKERS:-2}
OUT=results/v2
mkdir -p "$OUT"
SHIFTS="autumn snow rain dusk noise distractors"
PERTURB=""
for s in $SHIFTS; do PERTURB="$PERTURB --perturb config/perturbations/$s.yaml"; done

# 1. demonstrations: the privileged expert with injected action noise, as rosbag2
[ -d data/rover ] || liquid-control collect --robot rover --out data/rover --episodes 80 --workers "$WORKERS"
[ -d data/drone ] || liquid-control collect --robot drone --out data/drone --episodes 150 --workers "$WORKERS"

# 2. training: CfC-NCP (shipped) and LTC-NCP per robot, plus the time-unit ablation
#    (the same rover CfC-NCP with the paper's closed form fed seconds, as the first version was)
train() {  # robot core out_dir [extra overrides...]
  robot=$1; core=$2; dir=$3; shift 3
  [ -f "$dir/summary.json" ] || liquid-control train "config/train/${robot}_cfc_ncp.yaml" \
    --policy.core="$core" --out_dir="$dir" --optim.max_minutes="$MINUTES" --no-progress "$@"
}
train rover cfc_ncp runs/rover_cfc_ncp
train drone cfc_ncp runs/drone_cfc_ncp --optim.max_minutes=$((2 * MINUTES))
train rover ltc_ncp runs/rover_ltc_ncp
train drone ltc_ncp runs/drone_ltc_ncp --optim.max_minutes=$((2 * MINUTES))
train rover cfc_ncp runs/rover_cfc_ncp_seconds --policy.cfc_mode=default --policy.time_unit_s=1.0
for m in rover_cfc_ncp drone_cfc_ncp rover_ltc_ncp drone_ltc_ncp; do
  [ -f "models/policies/$m/config.json" ] || liquid-control export "runs/$m" --ship "models/policies/$m"
done

# 3. closed loop through the runtime (numpy backend), nominal + each shift, same seeds for all
for m in models/policies/rover_cfc_ncp models/policies/rover_ltc_ncp \
         models/policies/drone_cfc_ncp models/policies/drone_ltc_ncp; do
  name=$(basename "$m"); [ "$name" = best ] && name=$(basename "$(dirname "$m")")
  robot=${name%%_*}
  EXTRA=""; [ "$robot" = drone ] && EXTRA="--perturb config/perturbations/wind.yaml"
  # shellcheck disable=SC2086
  [ -f "$OUT/$name.json" ] || liquid-control eval --task "$robot" --model "$m" $PERTURB $EXTRA \
    --episodes "$EPISODES" --workers "$WORKERS" --no-progress \
    --json "$OUT/$name.json" --csv "$OUT/$name.csv" --md "$OUT/$name.md"
done

# 4. liquid time: dynamics probes and closed-loop success at camera 10-40 Hz, IMU 50-400 Hz
for m in models/policies/rover_cfc_ncp models/policies/drone_cfc_ncp models/policies/rover_ltc_ncp \
         models/policies/drone_ltc_ncp runs/rover_cfc_ncp_seconds/best \
         models/policies/rover_cfc_ncp_rand models/policies/rover_cfc_ncp_rand_ae \
         models/policies/drone_cfc_ncp_rand_ae; do
  name=$(basename "$m"); [ "$name" = best ] && name=$(basename "$(dirname "$m")")
  [ -f "$OUT/dynamics_$name/rates.md" ] || liquid-control inspect dynamics "$m" \
    --rate-episodes "$RATE_EPISODES" --workers "$WORKERS" --out-dir "$OUT/dynamics_$name"
done

# the drone policies with the camera blacked out: does the policy use the image?
for m in drone_cfc_ncp drone_ltc_ncp; do
  [ -f "$OUT/blackout_$m.json" ] || liquid-control eval --task drone --model "models/policies/$m" \
    --perturb results/perturbations/blackout.yaml --no-nominal --episodes 10 --workers "$WORKERS" \
    --no-progress --json "$OUT/blackout_$m.json" --md "$OUT/blackout_$m.md"
done

# 5. the fusion decision (docs/interfaces.md) and the time-unit ablation on a replayed stream
for m in models/policies/rover_cfc_ncp runs/rover_cfc_ncp_seconds/best; do
  name=$(basename "$m"); [ "$name" = best ] && name=$(basename "$(dirname "$m")")
  [ -f "$OUT/fusion_$name.json" ] || python bench/bench_fusion.py "$m" --seeds 2 --seconds 10 \
    --json "$OUT/fusion_$name.json"
done

# 6. the guardian of the shipped CfC-NCP policies, nominal-trained and scene-randomised
#    (guardian.json, 1% nominal false alarms; the drone's scores features + hidden state)
for name in rover_cfc_ncp drone_cfc_ncp rover_cfc_ncp_rand drone_cfc_ncp_rand; do
  robot=${name%%_*}
  [ -f "models/policies/$name/guardian.json" ] || \
    liquid-control calibrate "models/policies/$name" --task "$robot" --workers "$WORKERS" \
      $([ "$robot" = drone ] && echo --parts features,hidden)
done

# 7. the guardian in closed loop (liquid-control eval --guardian): detection AUROC, held-out
#    nominal false alarms, time from a mid-episode onset to the alarm, and success/crashes
#    with ood_action stop and slow against the unguarded policy; the episode cache lets an
#    interrupted run resume. Then the score candidates re-measured on the shipped policies.
GUARD_SHIFTS="config/perturbations/autumn.yaml config/perturbations/snow.yaml
  config/perturbations/rain.yaml config/perturbations/dusk.yaml config/perturbations/noise.yaml
  config/perturbations/distractors.yaml results/perturbations/blackout.yaml
  results/perturbations/frame_drops.yaml results/perturbations/heavy_noise.yaml
  results/perturbations/heavy_rain.yaml results/guardian/night.yaml"
mkdir -p runs/guardian
for robot in drone rover; do
  if [ "$robot" = drone ]; then  # ~4.4 s episodes
    onset=2; n=${GUARD_EPISODES:-20}; n_onset=${GUARD_ONSET_EPISODES:-10}
    extra=config/perturbations/wind.yaml
  else  # ~17 s episodes, ~35 s when stopped: fewer per cell
    onset=6; n=${GUARD_EPISODES:-10}; n_onset=${GUARD_ONSET_EPISODES:-6}
    extra=results/perturbations/white_lanes.yaml
  fi
  P=""; for s in $GUARD_SHIFTS $extra; do P="$P --perturb $s"; done
  out=results/guardian/closed_loop_$robot
  [ -f "$out.json" ] || liquid-control eval --guardian --task "$robot" \
    --model "models/policies/${robot}_cfc_ncp" $P --onset "$onset" --episodes "$n" \
    --onset-episodes "$n_onset" --nominal-episodes "${GUARD_NOMINAL_EPISODES:-100}" \
    --workers "$WORKERS" --cache "runs/guardian/closed_loop_$robot.jsonl" --no-progress \
    --json "$out.json" --md "$out.md" --plot "$out.png"
done
# the default rover (scene-randomised) on the rover's shifts, then the default drone
# (scene-randomised, behind auto-exposure) on the drone's
P=""; for s in $GUARD_SHIFTS results/perturbations/white_lanes.yaml; do P="$P --perturb $s"; done
for name in rover_cfc_ncp_rand rover_cfc_ncp_rand_ae; do  # without and behind auto-exposure
  out=results/guardian/closed_loop_rover_${name#rover_cfc_ncp_}
  [ -f "$out.json" ] || liquid-control eval --guardian --task rover \
    --model "models/policies/$name" $P --onset 6 --episodes "${GUARD_EPISODES:-10}" \
    --onset-episodes "${GUARD_ONSET_EPISODES:-6}" --nominal-episodes "${GUARD_NOMINAL_EPISODES:-100}" \
    --workers "$WORKERS" --cache "runs/guardian/closed_loop_$name.jsonl" --no-progress \
    --json "$out.json" --md "$out.md" --plot "$out.png"
done
P=""; for s in $GUARD_SHIFTS config/perturbations/wind.yaml; do P="$P --perturb $s"; done
out=results/guardian/closed_loop_drone_rand_ae
[ -f "$out.json" ] || liquid-control eval --guardian --task drone \
  --model models/policies/drone_cfc_ncp_rand_ae $P --onset 2 --episodes "${GUARD_EPISODES:-20}" \
  --onset-episodes "${GUARD_ONSET_EPISODES:-10}" --nominal-episodes "${GUARD_NOMINAL_EPISODES:-100}" \
  --workers "$WORKERS" --cache runs/guardian/closed_loop_drone_rand_ae.jsonl --no-progress \
  --json "$out.json" --md "$out.md" --plot "$out.png"
for robot in rover drone; do
  out=results/guardian/${robot}_score_auroc
  [ -f "$out.json" ] || python -m liquid_control.learn.guardian_eval \
    "models/policies/${robot}_cfc_ncp" --task "$robot" --episodes 6 --nominal-episodes 20 \
    --fit-episodes 10 --held-out 20 --max-time-s 20 --workers "$WORKERS" --json "$out.json" --md "$out.md"
done

# the score candidates on the default drone, where its guardian was blind (blackout)
out=results/guardian/drone_rand_ae_score_auroc
[ -f "$out.json" ] || python -m liquid_control.learn.guardian_eval models/policies/drone_cfc_ncp_rand_ae \
  --task drone --shift results/perturbations/blackout.yaml --shift results/perturbations/heavy_noise.yaml \
  --shift config/perturbations/snow.yaml --episodes 6 --nominal-episodes 20 --fit-episodes 10 \
  --held-out 20 --max-time-s 20 --workers "$WORKERS" --json "$out.json" --md "$out.md"

# Learning after deployment (issue 17): a simulated operator corrects the shipped rover under
#    sand + a 60-degree hue shift; rounds of finetune until it drives alone (results/adaptation),
#    then the fleet demonstration with Flower (three robots, three shifts; results/fleet)
grep -q '"round": 2' results/adaptation/curve.json 2>/dev/null || liquid-control adapt \
  models/policies/rover_cfc_ncp --shift results/adaptation/sand_hue.yaml --rounds 2 \
  --episodes 16 --eval-episodes 20 --steps 150 --work runs/adaptation --out results/adaptation \
  --workers "$WORKERS"
grep -q '"round": 3' results/adaptation/one_episode_rounds/curve.json 2>/dev/null || \
  liquid-control adapt models/policies/rover_cfc_ncp --shift results/adaptation/sand_hue.yaml \
  --rounds 3 --episodes 1 --eval-episodes 20 --steps 100 \
  --work runs/adaptation_one --out results/adaptation/one_episode_rounds --workers "$WORKERS"
[ -f results/fleet/union.json ] || sh results/fleet/run.sh
# the drone's guardian with the hidden state in the score (not shipped): a calibrated copy
m=runs/guardian/drone_cfc_ncp_features_hidden
[ -f "$m/guardian.json" ] || { rm -rf "$m"; cp -r models/policies/drone_cfc_ncp "$m"; \
  liquid-control calibrate "$m" --task drone --parts features,hidden --workers "$WORKERS" --no-progress; }
P=""; for s in $GUARD_SHIFTS config/perturbations/wind.yaml; do P="$P --perturb $s"; done
[ -f results/guardian/features_hidden_drone.json ] || liquid-control eval --guardian --task drone \
  --model "$m" $P --episodes "${GUARD_EPISODES:-20}" --nominal-episodes "${GUARD_NOMINAL_EPISODES:-100}" \
  --workers "$WORKERS" --cache runs/guardian/features_hidden_drone.jsonl --no-progress \
  --json results/guardian/features_hidden_drone.json --md results/guardian/features_hidden_drone.md \
  --plot results/guardian/features_hidden_drone.png
