#!/bin/sh
# Fleet demonstration (issue 17): three rovers, each holding operator corrections from a
# different shift, fine-tune the shipped rover CfC-NCP with Flower (FedAvg); the global model
# is compared with each robot's own fine-tune on the union of the three shifts.
# Run from the repository root: sh results/fleet/run.sh   (resumable: steps with output skip)
set -eu
MODEL=models/policies/rover_cfc_ncp
EPISODES=${EPISODES:-16}           # operator episodes per robot
ROUNDS=${ROUNDS:-3}                # federated rounds
STEPS=${STEPS:-150}                # finetune batches per client per round
EVAL=${EVAL:-10}                   # evaluation episodes per (model, shift)
W=${W:-runs/fleet_e${EPISODES}_s${STEPS}_r${ROUNDS}}  # one work dir per budget
OUT=${OUT:-results/fleet}
PORT=${PORT:-18480}
SHIFTS="results/adaptation/sand_hue.yaml config/perturbations/autumn.yaml results/fleet/checker_blue.yaml"
mkdir -p "$W"
k=0
for s in $SHIFTS; do
  n=$(basename "$s" .yaml); k=$((k + 1))
  [ -f "$W/bags_$n.json" ] || { python -m liquid_control.learn.operator "$MODEL" --shift "$s" \
      --out "$W/bags_$n" --episodes "$EPISODES" --seed $((71000 + 1000 * k)) --workers 2 \
      > "$W/bags_$n.json.tmp" && mv "$W/bags_$n.json.tmp" "$W/bags_$n.json"; }
  [ -d "$W/replay_$n" ] || liquid-control collect --robot rover --out "$W/replay_$n" \
      --episodes 6 --seed $((81000 + 1000 * k)) --workers 2 --no-progress
done
if [ ! -d "$W/global/round_$(printf %03d "$ROUNDS")" ]; then  # an interrupted run starts over
  rm -rf "$W/global" "$W"/local_*
  liquid-control fleet server "$MODEL" --out "$W/global" --rounds "$ROUNDS" --clients 3 \
    --steps "$STEPS" --address "127.0.0.1:$PORT" > "$W/server.log" 2>&1 &
  for s in $SHIFTS; do
    n=$(basename "$s" .yaml)
    liquid-control fleet client "$MODEL" --server "127.0.0.1:$PORT" --bags "$W/bags_$n" \
      --replay "$W/replay_$n" --interventions-only --correction-weight 2 \
      --keep "$W/local_$n" > "$W/client_$n.log" 2>&1 &
  done
  wait
fi
# the global model after the last round vs each robot's own fine-tune from the shipped model
# (round 1 of its client: the same bags, no averaging); named links label the tables
mkdir -p "$W/compare"
ln -sfn "../global/round_$(printf %03d "$ROUNDS")" "$W/compare/fleet_global"
P=""; for s in $SHIFTS; do P="$P --perturb $s"; done
compare() {  # NAME LOCAL_TEMPLATE LABEL_SUFFIX: fleet_global vs each robot's LOCAL (%s = its shift)
  M="--model $W/compare/fleet_global"
  for s in $SHIFTS; do
    n=$(basename "$s" .yaml)
    # shellcheck disable=SC2059
    ln -sfn "../$(printf "$2" "$n")" "$W/compare/local_$n$3"
    M="$M --model $W/compare/local_$n$3"
  done
  # shellcheck disable=SC2086
  [ -f "$OUT/$1.json" ] || liquid-control eval --task rover $M $P --episodes "$EVAL" \
    --workers 2 --no-progress --json "$OUT/$1.json" --md "$OUT/$1.md"
}
compare union "local_%s/round_001" ""
cp "$W/global/rounds.json" "$OUT/rounds.json"
# budget-matched local baseline: each robot fine-tunes alone for as many batches as the
# fleet's rounds gave it in total (ROUNDS x STEPS), from the shipped model
for s in $SHIFTS; do
  n=$(basename "$s" .yaml)
  [ -f "$W/local_matched_$n/config.json" ] || liquid-control finetune "$MODEL" --bags "$W/bags_$n" \
    --replay "$W/replay_$n" --interventions-only --correction-weight 2 \
    --steps $((ROUNDS * STEPS)) --minutes $((ROUNDS * 15)) --out "$W/local_matched_$n" --no-progress \
    > "$W/local_matched_$n.log" 2>&1 &
done
wait
compare union_matched "local_matched_%s" "_x$ROUNDS"
