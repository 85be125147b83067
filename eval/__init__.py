"""newsrag's evaluation: load a Q&A set, run the assistant over it, and report retrieval, answer,
choice, refusal, citation and latency metrics.

>>> from assistant import Assistant
>>> from eval import format_table, load_qa, run_eval
>>> report = run_eval(Assistant.open("./idx"), load_qa("eval/sample_qa.jsonl"))
>>> print(format_table(report))
"""

from eval.qa import QAFormatError, QAItem, load_qa
from eval.report import EvalReport, format_table, write_report
from eval.runner import run_eval

__all__ = [
    "EvalReport",
    "QAFormatError",
    "QAItem",
    "format_table",
    "load_qa",
    "run_eval",
    "write_report",
]
