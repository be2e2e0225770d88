"""Our proxy of the field's T2M evaluator (Guo et al. 2022): a motion encoder and a text head mapped into
one embedding space by contrastive training, plus a concept classifier on the motion embedding.

    motion (B, T, 263) normalised ──mask──> Linear 263->H ──> 2 x Conv1d(stride 2) ──> +pos ──> Transformer
        ──> masked mean ──> Linear H->512 = z ──> normalise = motion embedding
                                                └─> LayerNorm, Linear 512->23 = concept logits
    MiniLM pooled (B, 384) ──> MLP 384->512->512 ──> normalise = text embedding

Embeddings are unit length, so the Euclidean distances that the field's metrics use (R-precision, FID,
diversity) rank pairs exactly as the cosine similarities used in training do.
Everything after the input mask only sees real frames: the encoding of a motion does not depend on how much
zero padding follows it (tested).

model.py is the network, training.py trains it, embedding.py runs it over a dataset and measures it,
reference.py stores the real-motion embeddings for FID, cli.py is the command:

    python -m motion_lora.evaluator --data data/motionbank --out checkpoints/evaluator --steps 5000
"""

from .cli import main
from .embedding import collate, embed_dataset, evaluation_metrics
from .model import Evaluator, EvaluatorConfig, MotionEncoder, frame_mask
from .reference import REFERENCE_FILE, UNSHIPPABLE_SOURCES, write_reference
from .training import contrastive_loss, train_evaluator

__all__ = [
    "REFERENCE_FILE",
    "UNSHIPPABLE_SOURCES",
    "Evaluator",
    "EvaluatorConfig",
    "MotionEncoder",
    "collate",
    "contrastive_loss",
    "embed_dataset",
    "evaluation_metrics",
    "frame_mask",
    "main",
    "train_evaluator",
    "write_reference",
]
