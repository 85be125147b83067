"""How many llama.cpp threads to use: prompt and generation speed of one GGUF model with a given
thread count, three requests in a row, as one JSON line (run it once per setting; OpenMP reads
``OMP_WAIT_POLICY`` only when the process starts).

    python -m benchmarks.llm_threads gguf:qwen2.5-0.5b 1
    OMP_WAIT_POLICY=PASSIVE python -m benchmarks.llm_threads gguf:qwen2.5-0.5b 2
"""

from __future__ import annotations

import json
import os
import sys

from assistant.local_models import load_local_model

TEXT = (
    "The council voted on Tuesday to extend the tram line to the harbour district, a project "
    "costing 40 million euros that will open in 2028. "
) * 10


def main(argv: list[str]) -> None:
    spec, threads = argv[0], int(argv[1])
    model = load_local_model(spec.removeprefix("gguf:"), threads=threads)
    runs = []
    for i in range(3):
        question = f"Question {i}: when will the tram line open? Answer in two sentences."
        response = model.complete(
            [{"role": "user", "content": f"{TEXT}\n\n{question}"}], 48, cache_prompt=False
        )
        timings = response["timings"]
        runs.append(
            {
                "prompt_tokens": timings["prompt_n"],
                "prompt_tok_s": round(timings["prompt_per_second"], 1),
                "tokens": timings["predicted_n"],
                "tok_s": round(timings["predicted_per_second"], 1),
            }
        )
    row = {
        "model": spec,
        "threads": threads,
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", ""),
        "load_s": round(model.load_seconds, 2),
        "load_average": round(os.getloadavg()[0], 1),
        "runs": runs,
    }
    print(json.dumps(row))


if __name__ == "__main__":
    main(sys.argv[1:])
