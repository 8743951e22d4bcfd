"""A small task corpus of menu descriptions for the training tests (tiny model)."""

from __future__ import annotations

import json
from pathlib import Path

from copywriter.quality.tasks import split_of

TEMPLATE = "hospitality-menu-item-description"
MENU = [
    ({"dish_name": "Harbour chowder", "ingredients": "smoked haddock, leeks, potatoes, cream",
      "method": "slow simmered"},
     "Smoked haddock and sweet leeks simmered slowly with potatoes in a rich cream broth, served with warm bread."),
    ({"dish_name": "Garden risotto", "ingredients": "arborio rice, peas, mint, parmesan", "dietary": "V"},
     "Creamy arborio rice stirred with fresh garden peas, torn mint and aged parmesan shavings (V)"),
    ({"dish_name": "Braised short rib", "ingredients": "beef short rib, red wine, carrots, mash",
      "method": "braised overnight"},
     "Beef short rib braised overnight in red wine until it falls apart, on buttery mash with glazed carrots."),
    ({"dish_name": "Lemon tart", "ingredients": "lemons, butter pastry, crème fraîche"},
     "Sharp lemon curd set in crisp butter pastry, finished with a spoon of cool crème fraîche on the side."),
    ({"dish_name": "Charred broccoli", "ingredients": "tenderstem broccoli, chilli, almonds, garlic",
      "dietary": "VG"},
     "Tenderstem broccoli charred over flame, tossed with chilli, toasted almonds and golden garlic slivers (VG)"),
    ({"dish_name": "Crab linguine", "ingredients": "Cornish crab, linguine, chilli, parsley"},
     "Fresh Cornish crab folded through linguine with a little chilli heat, lemon zest and chopped parsley."),
    ({"dish_name": "Mushroom toast", "ingredients": "wild mushrooms, sourdough, thyme, egg yolk"},
     "Wild mushrooms pan-fried with thyme, piled onto toasted sourdough and crowned with a soft golden yolk."),
    ({"dish_name": "Pork belly", "ingredients": "pork belly, apple, cider, crackling", "method": "roasted"},
     "Roasted pork belly with proper crackling, a sticky cider glaze and a sharp apple purée alongside."),
]


def ids_in(split: str, count: int) -> list[str]:
    """Example ids that split_of puts in ``split`` (the split is a hash of the id)."""
    found = [f"menu-{n}" for n in range(500) if split_of(f"menu-{n}", TEMPLATE) == split]
    return found[:count]


def write_corpus(path: Path, *, train: int = 6, heldout: int = 2) -> Path:
    ids = ids_in("train", train) + ids_in("heldout", heldout)
    lines = [json.dumps({"id": i, "template": TEMPLATE, "industry": "restaurant", "fields": f,
                         "output": o}) for i, (f, o) in zip(ids, MENU, strict=False)]
    path.write_text("\n".join(lines) + "\n")
    return path
