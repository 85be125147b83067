"""An answer's claims by citation, and the sentences of a passage that back them."""

from assistant.claims import backing_sentences, cited_claims
from assistant.records import Answer, Citation


def test_cited_claims_pair_each_marker_with_the_sentences_that_cite_it() -> None:
    claims = cited_claims(
        "Forty workers shared the jackpot [1]. The plant will hire 1,200 people [2][1]. "
        "Nothing else. [2]"
    )
    assert claims == {
        1: ["Forty workers shared the jackpot.", "The plant will hire 1,200 people."],
        2: ["The plant will hire 1,200 people.", "Nothing else."],
    }
    assert cited_claims("No markers here.") == {}


def test_backing_sentences_are_the_quoted_ones_or_the_closest_in_words() -> None:
    passage = "Talks began at nine. Rutte warned of a European army. Fog closed the airport."
    quoted = backing_sentences(passage, ["Reports say: Rutte warned of a European army."])
    assert [passage[a:b] for a, b in quoted] == ["Rutte warned of a European army."]
    both = backing_sentences(passage, ["The airport was closed by fog.", "Talks began at nine."])
    assert [passage[a:b] for a, b in both] == ["Talks began at nine.", "Fog closed the airport."]
    assert backing_sentences(passage, ["Nothing in common here."]) == []
    assert backing_sentences(passage, []) == []


def test_answer_json_lists_each_citations_quoted_sentences() -> None:
    passage = "Talks began at nine. Rutte warned of a European army. Fog closed the airport."
    cited = Citation(1, "a1", "T", None, None, None, passage, 0, len(passage))
    answer = Answer("q", "Rutte warned of a European army. [1] Fog closed it. [1]", False, (cited,))
    assert answer.quoted() == {1: [(21, 53), (54, 77)]}
    record = answer.to_dict()
    assert record["citations"][0]["quoted"] == [[21, 53], [54, 77]]
    assert list(record)[:4] == ["question", "answer", "refused", "citations"]
    refusal = Answer("q", "No answer.", True, related=(cited,))
    assert refusal.to_dict()["related"][0]["quoted"] == []
