"""A code's community record: agreement, publication, rejection, answers, its item."""

from __future__ import annotations

import pytest

from barcode_service.community.model import (
    CodeRecord,
    Contribution,
    Description,
    ShareState,
    normalise,
)

GTIN = "00012345678905"


def contribution(who: str, name: str, brand: str | None = None, at: int = 100) -> Contribution:
    return Contribution(who, Description(name, brand, "500 ml"), at, at)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Eco Dish Soap, Lemon", "eco dish-soap   lemon"),
        ("ＣＬＥＡＲＷＡＴＥＲ", "clearwater"),  # full-width letters (NFKC)
        ("Straße", "STRASSE"),  # case folding
        ("  Tea  ", "tea!"),
    ],
)
def test_texts_that_agree(one: str, other: str) -> None:
    assert normalise(one) == normalise(other)


def test_agreement_is_name_and_brand_only() -> None:
    soap = Description("Dish Soap", "Clearwater", "500 ml", "Soap")
    assert soap.agreement_key == Description("dish soap", "CLEARWATER").agreement_key
    assert soap.agreement_key != Description("Dish Soap", "Other").agreement_key
    assert soap.agreement_key != Description("Dish Soap").agreement_key
    assert Description("Dish Soap").agreement_key == Description("dish soap", "").agreement_key
    # The separator keeps "a b" + "" apart from "a" + "b".
    assert Description("a b").agreement_key != Description("a", "b").agreement_key


def test_one_contribution_per_caller_and_distinct_callers_confirm() -> None:
    record = CodeRecord(GTIN).with_contribution(contribution("alice", "Soap"))
    record = record.with_contribution(contribution("alice", "soap"))
    assert len(record.contributions) == 1
    key = record.contributions[0].agreement_key
    assert record.confirmations(key) == 1
    record = record.with_contribution(contribution("bob", "SOAP"))
    record = record.with_contribution(contribution("carol", "Shampoo"))
    assert record.confirmations(key) == 2
    assert [c.contributor for c in record.contributions] == ["alice", "bob", "carol"]


def test_publication_answers_everyone_with_the_first_agreeing_text() -> None:
    record = CodeRecord(GTIN)
    for who, name in (("carol", "Shampoo"), ("alice", "Soap"), ("bob", "soap")):
        record = record.with_contribution(contribution(who, name))
    published = record.publish("alice", by="confirmations", now=200)
    assert published.state == "published"
    assert published.published is not None
    assert published.published.confirmations == 2
    assert [c.status for c in published.contributions] == ["pending", "published", "published"]
    answer = published.answer_for(None)
    assert answer is not None
    assert answer.description.name == "Soap"
    assert published.answer_for("carol") == answer, "published wins over a caller's own"
    details = published.details(answer)
    assert details["status"] == "published"
    assert details["published_by"] == "confirmations"
    assert details["confirmations"] == 2


def test_a_pending_contribution_answers_only_its_contributor() -> None:
    record = CodeRecord(GTIN).with_contribution(contribution("alice", "Soap"))
    assert record.state == "pending"
    own = record.answer_for("alice")
    assert own is not None
    assert record.details(own)["status"] == "pending"
    assert record.answer_for("bob") is None
    assert record.answer_for(None) is None


def test_rejecting_the_published_text_withdraws_the_publication() -> None:
    record = CodeRecord(GTIN)
    for who in ("alice", "bob"):
        record = record.with_contribution(contribution(who, "Soap"))
    record = record.publish("alice", by="operator", now=200)
    rejected = record.reject("alice", now=300)
    assert rejected.published is None
    assert [c.status for c in rejected.contributions] == ["rejected", "pending"]
    assert rejected.state == "pending"
    assert rejected.answer_for("alice") is None
    everything = rejected.reject(None, now=400)
    assert everything.state == "rejected"
    assert {c.status for c in everything.contributions} == {"rejected"}


def test_rejecting_another_contribution_keeps_the_publication() -> None:
    record = CodeRecord(GTIN).with_contribution(contribution("alice", "Soap"))
    record = record.with_contribution(contribution("bob", "Spam"))
    record = record.publish("alice", by="operator", now=200).reject("bob", now=300)
    assert record.published is not None
    assert record.state == "published"


def test_the_item_round_trips_with_its_provenance() -> None:
    record = CodeRecord(GTIN).with_contribution(
        Contribution(
            "alice",
            Description("Soap", None, None, "Cleaning"),
            100,
            150,
            image_url="https://images.example.com/products/x.jpg",
            share=ShareState("queued", "Open Food Facts could not be reached", 2, 140),
        )
    )
    record = record.publish("alice", by="operator", now=200)
    item = record.to_item(now=300)
    assert item["pk"] == {"S": f"COMMUNITY#{GTIN}"}
    assert item["community_state"] == {"S": "published"}
    assert item["community_updated"] == {"N": "300"}
    back = CodeRecord.from_item(item)
    assert back.version == 1
    assert back.contributions == record.contributions
    assert back.published == record.published
