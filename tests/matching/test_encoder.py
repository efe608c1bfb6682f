"""Tests for matching.encoder: the ONNX graph written here is the model torch runs, token for token, and its
int8 form (the default) stays close to it."""

import json

import numpy as np
import pytest
import torch

from matching import encoder, evaluate, tune

ODD = [
    "Café-style reading areas; pupils' “reading for pleasure” 📚 in KS2 — and Year 6 SATs",
    "SENCo/DSL: EHCP reviews, SEMH & dysregulation (EYFS → KS1)",
    "   spaces   and\ttabs\nand new lines   ",
    "x",
]


def _texts() -> list[str]:
    data = evaluate.load_set("dev")
    # the last is far beyond 256 word pieces, so both sides must truncate it the same way
    return data.request_texts[:20] + data.supporter_texts[:20] + ODD + ["phonics and early reading " * 120]


@pytest.fixture(scope="module")
def torch_model():
    return tune.load_torch_model(tuned=True)


@pytest.fixture(scope="module")
def onnx_model():
    """The graph in float32, which must be torch's model to float rounding."""
    return encoder.load(int8=False)


@pytest.fixture(scope="module")
def int8_model():
    """What the matcher runs."""
    return encoder.load()


def test_the_tokenizer_gives_transformers_word_pieces_and_truncates_at_the_models_length(torch_model, onnx_model):
    for text in _texts():
        expected = torch_model.tokenizer(text, truncation=True, max_length=torch_model.max_length)["input_ids"]
        assert onnx_model.token_ids(text)[0].tolist() == expected, text
    assert onnx_model.token_ids(_texts()[-1]).shape == (1, 256)


def test_the_onnx_graph_gives_the_vectors_torch_gives_for_the_tuned_model(torch_model, onnx_model):
    texts = _texts()
    with torch.inference_mode():
        expected = np.stack([tune._embed(torch_model, [t])[0].numpy() for t in texts])
    got = onnx_model.encode(texts)
    assert got.shape == (len(texts), 384) and got.dtype == np.float32
    # float32 arithmetic in another order: about 2e-7 apart, far inside the 2^-12 (2.4e-4) rounding after
    assert np.abs(got - expected).max() < 2e-5
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-6)


def test_without_the_tuning_it_is_the_wheels_model(onnx_model):
    texts = _texts()[:10]
    plain = tune.load_torch_model()
    with torch.inference_mode():
        expected = np.stack([tune._embed(plain, [t])[0].numpy() for t in texts])
    got = encoder.load(tuned=False, int8=False).encode(texts)
    assert np.abs(got - expected).max() < 2e-5
    assert np.abs(got - onnx_model.encode(texts)).max() > 1e-3  # and the tuning does change it


@pytest.mark.parametrize("model", ["onnx_model", "int8_model"])
def test_a_texts_vector_is_the_same_to_the_bit_on_one_worker_or_several(model, request):
    from dataclasses import replace

    model = request.getfixturevalue(model)
    texts = _texts()
    alone = replace(model, workers=1).encode(texts)
    shared = replace(model, workers=3).encode(texts[::-1])[::-1]
    assert np.array_equal(alone, shared)
    assert encoder.Encoder.encode(model, []).shape[0] == 0


def test_the_int8_weights_are_those_onnxruntime_quantization_makes():
    from onnx import TensorProto
    from onnxruntime.quantization.quant_utils import quantize_data

    w = encoder.weights()
    for name in ("encoder.layer.0.attention.self.query", "encoder.layer.5.intermediate.dense"):
        wt = w[f"{name}.weight"].T
        q, scale = encoder.quantise_columns(wt)
        assert q.dtype == np.int8 and np.abs(q).max() == encoder.INT8_WEIGHT_LEVELS  # -64..64, the range used
        for j in range(0, wt.shape[1], 7):
            zero, expected_scale, expected = quantize_data(wt[:, j], TensorProto.INT8, True, reduce_range=True)
            assert zero == 0 and np.float32(expected_scale) == scale[j]
            assert np.array_equal(expected.astype(np.int8), q[:, j]), (name, j)


def test_the_int8_graph_runs_every_weight_product_in_integers():
    import onnx

    config = json.loads((encoder.model_dir() / "config.json").read_text(encoding="utf-8"))
    w = encoder.weights()
    kinds = [n.op_type for n in onnx.load_from_string(encoder.build_graph(w, config)).graph.node]
    plain = [n.op_type for n in onnx.load_from_string(encoder.build_graph(w, config, int8=False)).graph.node]
    # six layers of q, k, v, attention output and two feed-forward products; the 12 left are the
    # attention's own products between activations
    assert kinds.count("MatMulInteger") == 36 and kinds.count("MatMul") == 12
    assert plain.count("MatMulInteger") == 0 and plain.count("MatMul") == 48


def test_the_int8_encoder_stays_close_to_the_float_one(onnx_model, int8_model):
    texts = _texts()
    exact, fast = onnx_model.encode(texts), int8_model.encode(texts)
    cosines = (exact * fast).sum(axis=1)
    # measured on a region run's 2,206 texts: mean 0.993, least 0.987 (docs/benchmarks.md, fourteenth session)
    assert cosines.min() > 0.97 and cosines.mean() > 0.985
    assert not np.array_equal(exact, fast)  # it is a different computation, not the float graph again
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-6)


def test_a_model_of_another_architecture_is_refused_not_run_wrongly():
    with pytest.raises(ValueError, match="not the BERT"):
        encoder.build_graph(
            {}, {"hidden_size": 8, "num_attention_heads": 2, "layer_norm_eps": 1e-12, "hidden_act": "relu"}
        )


def test_the_matcher_runs_int8_and_can_be_switched_to_float32_to_measure_it(onnx_model, int8_model):
    from matching import similarity

    texts = _texts()[:12]

    def rounded(vectors):
        return np.round(vectors.astype(np.float64) / similarity._MEANING_STEP) * similarity._MEANING_STEP

    similarity.set_meaning_precision(int8=True)
    try:
        assert np.array_equal(similarity.meaning_vectors(texts), rounded(int8_model.encode(texts)))
        evaluate.main(["--set", "dev", "--method", "tfidf", "--float32"])  # what `--float32` does
        assert np.array_equal(similarity.meaning_vectors(texts), rounded(onnx_model.encode(texts)))
    finally:
        similarity.set_meaning_precision(int8=True)
    assert np.array_equal(similarity.meaning_vectors(texts), rounded(int8_model.encode(texts)))
