"""What counts as a name in a question or a sentence: a capitalised word (hyphens kept: "Nur-Sultan") or a number
as written ("7.644", "2,5"). One pattern for every module that anchors on names (question analysis, sub-queries).

It is a surface cue, not a named-entity tagger: a sentence's first word is capitalised too, and callers skip it
where that matters (a question's opening question word).

>>> [m.group() for m in NAMES.finditer("Kapan Nur-Sultan menerima 7.644 orang dari Rusia?")]
['Kapan', 'Nur-Sultan', '7.644', 'Rusia']
"""

from __future__ import annotations

import re

__all__ = ["NAMES"]

NAMES = re.compile(r"\d+(?:[.,]\d+)*|[A-Z][\w-]+")
