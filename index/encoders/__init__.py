"""The ways the embedding model runs on a CPU: torch (float32, bf16), ONNX Runtime (onnx,
onnx-int8) and OpenVINO, with the CPU feature probe that picks the default. Built through
:func:`index.embeddings.load_embedder`; nothing here is imported until an encoder is asked for."""
