"""Stage 3, the text-to-motion model: text encoder, denoiser, noise schedule, samplers, the generator that ties them.

Also pretraining the base denoiser on MotionBank (pretrain.py), foot-contact clean-up, and where checkpoints live.
Start with generator.py (prompt -> joints), then denoiser.py and sampler.py."""
