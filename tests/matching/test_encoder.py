"""Tests for matching.encoder: the ONNX graph written here is the model torch runs, token for token."""

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
    got = encoder.load(tuned=False).encode(texts)
    assert np.abs(got - expected).max() < 2e-5
    assert np.abs(got - onnx_model.encode(texts)).max() > 1e-3  # and the tuning does change it


def test_a_texts_vector_is_the_same_to_the_bit_on_one_worker_or_several(onnx_model):
    from dataclasses import replace

    texts = _texts()
    alone = replace(onnx_model, workers=1).encode(texts)
    shared = replace(onnx_model, workers=3).encode(texts[::-1])[::-1]
    assert np.array_equal(alone, shared)
    assert encoder.Encoder.encode(onnx_model, []).shape[0] == 0


def test_a_model_of_another_architecture_is_refused_not_run_wrongly():
    with pytest.raises(ValueError, match="not the BERT"):
        encoder.build_graph(
            {}, {"hidden_size": 8, "num_attention_heads": 2, "layer_norm_eps": 1e-12, "hidden_act": "relu"}
        )
