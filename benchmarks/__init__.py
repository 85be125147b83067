"""newsrag's benchmarks and lab tools, run from a checkout and never installed: encoder speed
and agreement (``python -m benchmarks.bench``), retrieval quality against peers
(``python -m benchmarks.retrieval_bench``), the answer ceiling of the passages retrieved
(``benchmarks.ceiling``), kill -9 during ingest (``python -m benchmarks.crash_check``) and the
vector cache they share. Commands and measured figures: docs/benchmarks.md."""
