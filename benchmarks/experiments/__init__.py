"""Quality of the model and of unlearning: physics, schedulers, base-model ablations, the text ceiling, erasure
methods side by side, collateral damage, anchored erasure, the soft-prompt attack and adapter strength curves."""
