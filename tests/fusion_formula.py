"""The fusion formula as the tests read it (``engine/fusion.py`` with ``engine/trust.py``), written out
here once, independently of the engine's code, for the tests that check a result's score against its
parts ("why")."""


def trust_factors(fusion, fit: float | None) -> dict[str, float]:
    """Each part's factor on its weight on a catalogue the shared space fits by ``fit`` (None: unknown, all 1):
    the stand-in parts weigh by (1 - fit) ** misfit_power, the colour reader at least ``colour_class_floor``
    of its weight, the category predicted from a photo and the type reader by fit ** fit_power (text queries:
    ``visual`` is 1; the type reader's 0 where the words name the shop's categories is not written here)."""
    if fit is None:
        return {}
    misfit = (1.0 - fit) ** fusion.misfit_power
    return {"colour": misfit, "colour_class": max(misfit, fusion.colour_class_floor), "proto": misfit,
            "bridge": misfit if fusion.bridge_by_fit else 1.0,
            "predicted_category_fit": fit ** fusion.fit_power,
            "type_class": fit ** fusion.fit_power if fusion.type_by_fit else 1.0}


def weight_of(fusion, part: str, why: dict) -> float:
    """Part "x_fit" has weight "w_x"; the cells' part "local" weighs w_local_text when words came with
    the photo (which the part "shape" shows); "all_words" (whether the title holds every word) has none."""
    if part == "all_words":
        return 0.0
    name = {"local": "w_local_text" if "shape" in why else "w_local"}.get(part, f"w_{part.removesuffix('_fit')}")
    return getattr(fusion, name)


def explained(fusion, fit: float | None, why: dict, factors: dict[str, float] | None = None) -> float:
    """The score the formula gives for the parts in ``why``; ``factors`` overrides a part's trust factor."""
    trust = {**trust_factors(fusion, fit), **(factors or {})}
    return sum(weight_of(fusion, part, why) * trust.get(part, 1.0) * value for part, value in why.items())
