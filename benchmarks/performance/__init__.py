"""Speed and memory: generation latency, the canvas player, the app's cold start and clicks, the strength slider,
unlearning cost, concurrent users, long memory runs, MP4 renders and pretraining throughput."""
