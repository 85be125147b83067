"""The retrieval chain, composed from LangChain Runnables: question -> passages -> answer."""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import Runnable, RunnableLambda, RunnablePassthrough

from assistant.answerer import ExtractiveAnswerer
from assistant.records import Answer
from index.newsindex import NewsIndex


def build_chain(
    index: NewsIndex, answerer: ExtractiveAnswerer, default_k: int = 5
) -> Runnable[dict[str, Any], Answer]:
    """``{"question": str, "k": int?, "mode": str?, "filters": SearchFilters?, "as_of": str?}``
    in, an :class:`Answer` out (see NewsIndex.search for the retrieval keys).

    >>> chain = build_chain(index, answerer)
    >>> chain.invoke({"question": "What did Rutte say about a European army?"}).answer
    """

    def retrieve(inputs: dict[str, Any]) -> list[Any]:
        return index.search(
            inputs["question"],
            inputs.get("k") or default_k,
            mode=inputs.get("mode"),
            filters=inputs.get("filters"),
            as_of=inputs.get("as_of", "today"),
        )

    def answer(inputs: dict[str, Any]) -> Answer:
        return answerer.answer(inputs["question"], inputs["hits"])

    chain = RunnablePassthrough.assign(
        hits=RunnableLambda(retrieve).with_config(run_name="retrieve")
    ) | RunnableLambda(answer).with_config(run_name="answer")
    return chain.with_config(run_name="newsrag")
