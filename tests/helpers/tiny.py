"""Tiny random models and tokenizers, built offline, for tests and the end-to-end scenario.

Two families: ``tiny_model``/``tiny_tokenizer`` (8 architectures, a byte-level BPE that reads any script, savable
as a Hugging Face folder) and ``word_model``/``word_tokenizer`` (LLaMA, GPT-2, Gemma 3 over a word-level
vocabulary of ``WORD_VOCAB`` ids, where a test can choose token ids directly).
"""

from __future__ import annotations

from pathlib import Path

import torch
import transformers
from tokenizers import ByteLevelBPETokenizer, Tokenizer, models, pre_tokenizers, processors

SMALL = dict(vocab_size=300)

CONFIGS = {
    "llama": lambda: transformers.LlamaConfig(hidden_size=16, intermediate_size=24, num_hidden_layers=2,
                                              num_attention_heads=2, num_key_value_heads=1, **SMALL),
    "mistral": lambda: transformers.MistralConfig(hidden_size=16, intermediate_size=24, num_hidden_layers=2,
                                                  num_attention_heads=2, num_key_value_heads=1, head_dim=8, **SMALL),
    "qwen2": lambda: transformers.Qwen2Config(hidden_size=16, intermediate_size=24, num_hidden_layers=2,
                                              num_attention_heads=2, num_key_value_heads=1, **SMALL),
    "gemma3_text": lambda: transformers.Gemma3TextConfig(hidden_size=16, intermediate_size=24, num_hidden_layers=2,
                                                         num_attention_heads=2, num_key_value_heads=1, head_dim=8,
                                                         sliding_window=4, **SMALL),
    "bloom": lambda: transformers.BloomConfig(hidden_size=16, n_layer=2, n_head=2, **SMALL),
    "gpt2": lambda: transformers.GPT2Config(n_embd=16, n_layer=2, n_head=2, n_positions=64, **SMALL),
    "gpt_neox": lambda: transformers.GPTNeoXConfig(hidden_size=16, intermediate_size=24, num_hidden_layers=2,
                                                   num_attention_heads=2, max_position_embeddings=64, **SMALL),
    "opt": lambda: transformers.OPTConfig(hidden_size=16, ffn_dim=24, num_hidden_layers=2, num_attention_heads=2,
                                          word_embed_proj_dim=16, max_position_embeddings=64, **SMALL),
}

CORPUS = [
    "In the beginning God created the heaven and the earth.",
    "起初，神创造天地。", "Au commencement, Dieu créa les cieux et la terre.",
    "En el principio creó Dios los cielos y la tierra.", "No princípio criou Deus os céus e a terra.",
    "في البدء خلق الله السموات والارض.", "Ban đầu Đức Chúa Trời dựng nên trời đất.",
    "आदि में परमेश्वर ने आकाश और पृथ्वी की सृष्टि की।", "Pada mulanya Allah menciptakan langit dan bumi.",
    # the other scripts of the Bible loader's languages (ru, uk, ja, ko, bn, fa), so that they get merges too
    "В начале сотворил Бог небо и землю.", "На початку Бог створив Небо та землю.", "初めに、神が天と地を創造した。",
    "태초에 하나님이 천지를 창조하시니라", "ঈশ্বর আকাশ ও পৃথিবী সৃষ্টির কাজ আরম্ভ করলেন।",
    "در ابتدا، خدا آسمانها و زمین را آفرید.", "Im Anfang schuf Gott den Himmel und die Erde.",
]


def tiny_tokenizer() -> transformers.PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer (any script) with BOS/EOS/PAD, trained on a few sentences."""
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(CORPUS * 3, vocab_size=SMALL["vocab_size"] - 3, min_frequency=1,
                            special_tokens=["<pad>", "<s>", "</s>"])
    return transformers.PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<s>", eos_token="</s>",
                                                pad_token="<pad>")


def tiny_model(arch: str, seed: int = 0) -> torch.nn.Module:
    """A random ``*ForCausalLM`` of the architecture, in eval mode, with pad/bos/eos ids of the tiny tokenizer."""
    torch.manual_seed(seed)
    config = CONFIGS[arch]()
    config.pad_token_id, config.bos_token_id, config.eos_token_id = 0, 1, 2
    model = transformers.AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    return model.eval()


def save_tiny(arch: str, folder: Path, seed: int = 0) -> Path:
    """Save a tiny model and tokenizer as a Hugging Face folder (safetensors)."""
    tiny_model(arch, seed).save_pretrained(folder)
    tiny_tokenizer().save_pretrained(folder)
    return folder


WORD_VOCAB = 100


def word_tokenizer() -> transformers.PreTrainedTokenizerFast:
    """Word-level: ``w0 .. w95`` are ids 4..99; the tokenizer adds one BOS (id 1) by default, like LLaMA/Gemma."""
    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, **{f"w{i}": i + 4 for i in range(WORD_VOCAB - 4)}}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    backend.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>"
    )


def word_model(kind: str, n_layers: int = 2, seed: int = 0, **overrides) -> torch.nn.Module:
    """A random causal LM over the ``WORD_VOCAB`` ids of :func:`word_tokenizer`, in eval mode.

    ``kind`` is ``llama``, ``gpt2`` or ``gemma3``; all are 32 wide with 4 heads and 64 MLP neurons per layer.
    ``overrides`` go to the config (e.g. ``final_logit_softcapping=1.0`` for Gemma 3, ``initializer_range``).
    """
    torch.manual_seed(seed)
    if kind == "llama":
        config = transformers.LlamaConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=n_layers,
                                          num_attention_heads=4, num_key_value_heads=2, vocab_size=WORD_VOCAB,
                                          **overrides)
        return transformers.LlamaForCausalLM(config).eval()
    if kind == "gpt2":
        config = transformers.GPT2Config(n_embd=32, n_inner=64, n_layer=n_layers, n_head=4, vocab_size=WORD_VOCAB,
                                         **overrides)
        return transformers.GPT2LMHeadModel(config).eval()
    if kind == "gemma3":
        config = transformers.Gemma3TextConfig(
            hidden_size=32, intermediate_size=64, num_hidden_layers=n_layers, num_attention_heads=4,
            num_key_value_heads=2, head_dim=8, vocab_size=WORD_VOCAB, sliding_window=4, max_position_embeddings=64,
            **{"initializer_range": 0.2, **overrides},
        )
        return transformers.Gemma3ForCausalLM(config).eval()
    raise ValueError(f"unknown word_model kind {kind!r}; use llama, gpt2 or gemma3")
