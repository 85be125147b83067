"""newsrag: cited answers over news articles.

>>> from assistant import Assistant
>>> assistant = Assistant.open("./idx")
>>> print(assistant.ask("What did Rutte say about a European army?").answer)
"""

from assistant.api import Assistant
from assistant.config import AssistantSettings
from assistant.records import Answer, Citation
from assistant.retriever import NewsRetriever
from index import Hit, NewsIndex, NewsragError, SearchFilters, SearchRequest, Settings

__all__ = [
    "Answer",
    "Assistant",
    "AssistantSettings",
    "Citation",
    "Hit",
    "NewsIndex",
    "NewsRetriever",
    "NewsragError",
    "SearchFilters",
    "SearchRequest",
    "Settings",
]
