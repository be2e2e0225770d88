#!/usr/bin/env bash
# Ship a newly trained base: copy it in as checkpoints/t2m/motionbank_base, then re-make everything that stands on
# it: eval_base (with the loss map), the four shipped adapters with the train CLI's defaults, test_unlearn and the
# soft-prompt attack on the kick adapter, and the few-step student.
#
#   scripts/ship_base.sh runs/latent_base            # a pretrain --out folder (latent or feature space)
#
# Needs data/motionbank. On the 2-core development CPU: about 5 min for eval_base, a minute per adapter, 10 min for
# the kick evaluation and attack, and about 15 min for the student (300 steps, capped by STUDENT_MINUTES). STAGES picks a subset, e.g.
# STAGES="adapters student". The model cards (README.md in each folder) are written by hand from the reports.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${1:?usage: scripts/ship_base.sh PRETRAIN_OUT_FOLDER}
STAGES=${STAGES:-"copy eval adapters kick student"}
BASE=checkpoints/t2m/motionbank_base
STUDENT_MINUTES=${STUDENT_MINUTES:-30}
has() { [[ " $STAGES " == *" $1 "* ]]; }

if has copy; then
  tmp=$(mktemp -d "$BASE.new.XXXX")
  # weights, config, normaliser, autoencoder and the training record; not the optimiser state
  (cd "$RUN" && tar cf - --exclude=train_state.pt --exclude=eval .) | (cd "$tmp" && tar xf -)
  # float16 halves the file; loading casts back to float32 (the autoencoder stays float32: 4 MB)
  python -c 'import sys, torch; from motion_lora.model.denoiser import MotionDenoiser as M; M.load(sys.argv[1]).save(sys.argv[1], dtype=torch.float16)' "$tmp"
  if [ -f "$BASE/README.md" ]; then cp "$BASE/README.md" "$tmp/README.md"; fi
  rm -rf "$BASE" && mv "$tmp" "$BASE"
fi
if has eval; then
  python -m motion_lora.eval_base --data data/motionbank --ckpt motionbank_base --repeats 1 --out "$BASE/eval"
fi
if has adapters; then
  # kick with the defaults (adversarial unlearning on); punch, jump and wave as plain ESD with preservation
  python -m motion_lora.train --name motionbank_base --target_concept kick
  for concept in punch jump wave; do
    python -m motion_lora.train --name motionbank_base --target_concept "$concept" --adversarial_tokens 0
  done
fi
if has kick; then
  python -m motion_lora.test_unlearn --name motionbank_base_LoRA_kick --target_concept kick --repeats 2 --natural_per_concept all
  python -m motion_lora.attack --adapter kick --objective match
  for concept in punch jump wave; do
    python -m motion_lora.test_unlearn --name "motionbank_base_LoRA_$concept" --target_concept "$concept" --repeats 2
  done
fi
if has student; then
  # the shipped student's recipe (2 DDIM steps from UniPC 12 at guidance 2.5; docs/models.md), from a fresh
  # folder: the validation samples are the new teacher's
  rm -rf runs/student_ship
  python -m motion_lora.distill --teacher motionbank_base --data data/motionbank --out runs/student_ship \
    --student_steps 2 --steps 300 --batch_size 16 --val_items 16 --lr 3e-5 --warmup 5 --ema 0.8 --ckpt_every 10 --bf16 \
    --max_minutes "$STUDENT_MINUTES" --ship checkpoints/t2m/motionbank_base_student
fi
