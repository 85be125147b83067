"""Syndicated copies: one story from three outlets is grouped, two stories on a topic are not."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from assistant.cli import main
from assistant.console import _passages
from assistant.records import Citation
from index import NewsIndex, Settings
from index.records import Article, Copy
from index.syndication import THRESHOLD, Stories, shingles, signature, similarity
from tests.conftest import HEADLINES, make_article
from tests.index.syndication_fixtures import COPIES, SAME_TOPIC

OUTLETS = ["Wire Service", "Daily Post", "Evening Star"]
TITLES = [
    "EU extends gas price cap for another year",
    "EU ministers extend gas price cap after late-night talks",
    "Gas price cap extended by EU energy ministers",
]
TOPIC_TITLES = ["EU energy ministers discuss gas storage", "Heating bills climb across Europe"]


def story_articles() -> list[Article]:
    copies = [
        Article(f"copy{n}", TITLES[n], text, source=OUTLETS[n], published=f"2026-01-1{n + 4}")
        for n, text in enumerate(COPIES)
    ]
    topic = [
        Article(f"topic{n}", TOPIC_TITLES[n], text, source="Energy Desk", published="2026-01-15")
        for n, text in enumerate(SAME_TOPIC)
    ]
    return copies + topic


def items(articles: list[Article]) -> list[tuple[str, str, Copy]]:
    return [(a.id, a.text, Copy(a.id, a.source, a.title, a.url, a.published)) for a in articles]


def exact(a: str, b: str) -> float:
    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / len(sa | sb)


def test_the_fixtures_sit_on_either_side_of_the_threshold() -> None:
    rewrites = [exact(a, b) for i, a in enumerate(COPIES) for b in COPIES[i + 1 :]]
    apart = [exact(a, b) for a in COPIES + SAME_TOPIC[:1] for b in SAME_TOPIC if a != b]
    assert min(rewrites) > THRESHOLD + 0.1
    assert max(apart) < THRESHOLD / 4
    # the MinHash estimate is close to the exact value
    assert abs(similarity(signature(COPIES[0]), signature(COPIES[2])) - exact(*COPIES[::2])) < 0.1


def test_three_outlets_are_one_story_two_topics_are_not(tmp_path: Path) -> None:
    stories = Stories(tmp_path / "s")
    stories.add(items(story_articles()))
    (group,) = stories.groups()
    assert sorted(c.article_id for c in group) == ["copy0", "copy1", "copy2"]
    assert stories.story_of("topic0") == "topic0" and stories.story_of("topic1") == "topic1"
    assert [c.source for c in stories.copies_of("copy1")] == ["Wire Service", "Evening Star"]


def test_the_same_boilerplate_under_unrelated_headlines_is_not_a_story(tmp_path: Path) -> None:
    disclaimer = (
        "Gambling involves risk. Please only gamble with funds that you can comfortably afford "
        "to lose. We cannot be held responsible for any loss that may be incurred."
    ) * 3
    stories = Stories(tmp_path / "s")
    stories.add(
        [
            ("a", disclaimer, Copy("a", "USA Today", "Kentucky Derby payouts after the race")),
            ("b", disclaimer, Copy("b", "USA Today", "NBA Finals TV channels and schedule")),
        ]
    )
    assert stories.groups() == []


def test_groups_survive_a_restart_and_take_new_copies(tmp_path: Path) -> None:
    articles = story_articles()
    stories = Stories(tmp_path / "s")
    stories.add(items(articles[:2] + articles[3:]))
    stories.save()
    again = Stories.open(tmp_path / "s")
    assert [len(g) for g in again.groups()] == [2]
    again.add(items(articles[2:3]))
    assert sorted(c.article_id for c in again.groups()[0]) == ["copy0", "copy1", "copy2"]
    again.remove("copy0")
    assert sorted(c.article_id for c in again.groups()[0]) == ["copy1", "copy2"]


def test_search_counts_a_story_once_and_names_the_other_outlets(fake_settings: Settings) -> None:
    index = NewsIndex.open(settings=fake_settings, create=True)
    corpus = [make_article(k, t, x) for k, t, x in HEADLINES]
    index.ingest_articles(story_articles() + corpus)
    assert index.stories.grouped
    hits = index.search("gas price cap extended by energy ministers", k=5, as_of=None)
    copies = [h for h in hits if h.chunk.article_id.startswith("copy")]
    assert len({h.chunk.article_id for h in copies}) == 1  # its passages, of one article
    assert len(hits) == 5
    assert [h.rank for h in hits] == [1, 2, 3, 4, 5]
    kept = copies[0]
    assert len(kept.also_in) == 2
    others = {c.source for c in kept.also_in}
    assert kept.chunk.source not in others and len(others | {kept.chunk.source}) == 3
    data = kept.to_dict()
    assert [c["source"] for c in data["also_in"]] == [c.source for c in kept.also_in]
    shown = _passages([Citation.from_hit(1, kept)], 100, {})
    assert any(line.startswith("    also in: ") for line in shown)
    # deleting a copy takes it out of the story
    index.delete("copy1")
    assert sorted(c.article_id for c in index.stories.groups()[0]) == ["copy0", "copy2"]


def test_a_reader_sees_groups_another_process_made(fake_settings: Settings) -> None:
    writer = NewsIndex.open(settings=fake_settings, create=True)
    writer.ingest_articles(story_articles()[3:])
    reader = NewsIndex.open(settings=fake_settings)
    assert not reader.stories.grouped
    writer.ingest_articles(story_articles()[:3])
    assert reader.stories.grouped


def test_list_stories_from_the_cli(fake_settings: Settings) -> None:
    NewsIndex.open(settings=fake_settings, create=True).ingest_articles(story_articles())
    args = ["list", "--stories", "--index", str(fake_settings.index_dir)]
    model = ["--embedding-model", "fake:64", "--chunk-size", "40"]
    result = CliRunner().invoke(main, [*args, "--json", *model[:2]])
    assert result.exit_code == 0, result.output
    (group,) = json.loads(result.stdout)
    assert sorted(c["source"] for c in group) == sorted(OUTLETS)
    result = CliRunner().invoke(main, [*args, *model[:2]])
    assert result.stdout.startswith("story 1: 3 articles\n")


def test_drop_removes_the_story_groups(fake_settings: Settings) -> None:
    NewsIndex.open(settings=fake_settings, create=True).ingest_articles(story_articles())
    folder = fake_settings.index_dir / "stories" / fake_settings.collection
    assert (folder / "stories.json").exists()
    assert NewsIndex.drop(fake_settings.index_dir, fake_settings.collection)
    assert not folder.exists()
