"""Stage 4, measuring generated motion: the proxy evaluator (text-motion embeddings), metrics, forget/retain protocol.

Also a rule-based kinematic judge and physics checks that need no learned model, the hand-written natural prompts,
and the eval_base CLI. Start with protocol.py (prompt sets, Judge, presence), then evaluator/."""
