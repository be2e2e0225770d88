"""Stage 6, handing motion to people: the MotionLab service behind app.py, batching, the UI helpers, exports.

Also the plots (viz.py), MP4 renders (video.py) and the generate CLI. Start with service.py (MotionLab), then
ui/ (what app.py calls) and export.py (BVH, the HTML player)."""
