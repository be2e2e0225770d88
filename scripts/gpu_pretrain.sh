#!/usr/bin/env bash
# Train a larger base on one GPU in a fixed time budget (default 8 minutes of training, inside a 9-minute lease),
# then write its weights where they can be copied back from.
#
#   BANDAI=path/to/bandai-namco-research-motiondataset.tar.xz OUT=$OUT/gpu_base scripts/gpu_pretrain.sh
#
# MotionBank is built first when data/motionbank is missing (about 2 minutes on 2 cores, less on a GPU machine's
# CPUs; without BANDAI it is built from the DeepMimic clips and procedural motions only). The model is the shipped
# recipe (a denoiser in the shipped motion autoencoder's latent, which it reuses as is) at 4x the shipped base's
# width x depth (d 512, 8 layers), with bf16 autocast (probed: fp32 where the GPU lacks bf16) and a resumable
# checkpoint every 1,000 steps, so a second lease continues the same run. Ship its weights only if eval_base shows
# it beats the CPU base at the CPU latency budget (docs/models.md).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-runs/gpu_base}
MINUTES=${MINUTES:-8}
if [ ! -f data/motionbank/train.txt ]; then
  python -m motion_lora.data build --out data/motionbank --seed 0 ${BANDAI:+--bandai "$BANDAI"}
fi
AE=${AE:-checkpoints/t2m/motionbank_base/autoencoder}
python -m motion_lora.pretrain --data data/motionbank --out "$OUT" --device cuda --latent "$AE" \
  --d_model 512 --n_layers 8 --n_heads 8 --batch_size 256 --lr 3e-4 --warmup 500 --steps 30000 \
  --bf16 --ckpt_every 1000 --max_minutes "$MINUTES" --caption_noise 0.5   # reworded captions: docs/models.md
python -m motion_lora.eval_base --data data/motionbank --ckpt "$OUT" --repeats 1 --out "$OUT/eval"
