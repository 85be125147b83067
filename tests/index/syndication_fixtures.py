"""One wire story as three outlets print it (lightly rewritten), and two different stories on
the same topic, written for the syndication tests."""

WIRE = (
    "BRUSSELS (Wire) - European Union energy ministers agreed on Thursday to cap the price of "
    "natural gas traded on the bloc's main exchanges for another year, after talks that ran "
    "late into the night. The cap, first introduced during the 2022 energy crisis, will apply "
    "whenever front-month prices exceed 180 euros per megawatt hour for three working days. "
    "Ministers from Germany and the Netherlands had resisted the extension, warning that it "
    "could scare off suppliers of liquefied natural gas at a time when Europe still depends on "
    "imports. A compromise added a review clause that lets the European Commission suspend the "
    "cap at short notice if supplies tighten. Spain, Italy and Greece, which pushed for the "
    "extension, said households needed protection from another spike in heating bills. "
    "Storage sites across the bloc are currently 78 percent full, according to industry data, "
    "below the level of a year ago. The Commission will present a report on the cap's effect "
    "on prices and supply security before the end of March, and ministers will meet again in "
    "June to decide whether the mechanism should become permanent."
)


def outlet_copy(lead: str, swaps: dict[str, str], tail: str = "") -> str:
    text = WIRE
    for old, new in swaps.items():
        text = text.replace(old, new)
    return lead + text.split(" - ", 1)[1] + tail


COPIES = [
    outlet_copy("BRUSSELS (Wire) - ", {}),
    outlet_copy(
        "Brussels — ",
        {"on Thursday": "on Thursday evening", "scare off": "deter", "78 percent": "78%"},
        " The decision still needs formal approval by EU governments.",
    ),
    outlet_copy(
        "EU ministers extend gas price cap. ",
        {
            "after talks that ran late into the night": "following overnight talks",
            "Spain, Italy and Greece": "Southern members including Spain and Italy",
            "households needed protection": "families must be shielded",
        },
    ),
]

SAME_TOPIC = [
    "European Union energy ministers met in Brussels on Thursday to discuss the price of natural "
    "gas and the bloc's storage levels ahead of winter. Several ministers said the market cap "
    "should be extended, while Germany warned about supplies of liquefied natural gas. Storage "
    "sites are 78 percent full. A decision is expected in the spring, officials said, after the "
    "European Commission reports on how the cap has worked since the 2022 energy crisis.",
    "Households across southern Europe are paying more to heat their homes this winter, as gas "
    "prices rose again on Europe's main exchanges. In Spain and Italy, consumer groups asked "
    "governments for help with heating bills, and several energy companies announced new "
    "tariffs. Analysts said liquefied natural gas imports from the United States had kept "
    "supplies flowing but could not stop prices from climbing when cold weather arrived.",
]
