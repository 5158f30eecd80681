"""Cluster resources from the model: parameter counts against the models themselves, and the requests they give."""

import json
import math

import pytest
import torch
import transformers

from linguafranca.model.parameters import (
    estimated_parameters,
    manifest_parameters,
    parameter_count,
    safetensors_parameters,
)
from linguafranca.pipeline.job_resources import model_job_resources
from linguafranca.pipeline.threads import local_model_threads, real_threads
from tests.helpers.tiny import CONFIGS, save_tiny

CLUSTER = {"gpu_memory_gb": 80, "gpus_per_node": 8, "gpu_model": None}
#: The published shapes of the models the README gives resources for (their config.json files on the hub).
LLAMA2_70B = transformers.LlamaConfig(hidden_size=8192, intermediate_size=28672, num_hidden_layers=80,
                                      num_attention_heads=64, num_key_value_heads=8, vocab_size=32000)
BLOOM_7B1 = transformers.BloomConfig(hidden_size=4096, n_layer=30, n_head=32, vocab_size=250880)
MISTRAL_7B = transformers.MistralConfig(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                                        num_attention_heads=32, num_key_value_heads=8, vocab_size=32000)
GPT2 = transformers.GPT2Config()


def meta_parameters(config) -> int:
    """The brute-force count: build the model on the meta device (no memory) and count its parameters."""
    with torch.device("meta"):
        model = transformers.AutoModelForCausalLM.from_config(config)
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("family", sorted(CONFIGS))
def test_safetensors_headers_give_the_exact_count(family, tmp_path):
    folder = save_tiny(family, tmp_path / family)
    model = transformers.AutoModelForCausalLM.from_pretrained(folder)
    stored = {id(p) for p in model.parameters()}  # tied weights once, as save_pretrained stores them
    assert safetensors_parameters(folder) == sum(p.numel() for p in model.parameters() if id(p) in stored)
    assert parameter_count(str(folder)) == safetensors_parameters(folder)


def test_the_manifest_leads_to_the_count_and_a_missing_one_names_itself(tmp_path):
    folder = save_tiny("llama", tmp_path / "llama")
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"source": "local", "path": str(folder)}))
    assert manifest_parameters(str(manifest)) == safetensors_parameters(folder)
    with pytest.raises(FileNotFoundError) as missing:  # what Snakemake shows as <TBD> until resolve_model ran
        manifest_parameters(str(tmp_path / "none.json"))
    assert missing.value.filename == str(tmp_path / "none.json")


def test_no_safetensors_is_none(tmp_path):
    assert safetensors_parameters(tmp_path) is None


@pytest.mark.parametrize("config", [LLAMA2_70B, BLOOM_7B1, MISTRAL_7B, GPT2], ids=["llama2-70b", "bloom-7b1",
                                                                                  "mistral-7b", "gpt2"])
def test_estimate_from_config_json_is_within_one_percent(config):
    assert estimated_parameters(config.to_dict()) == pytest.approx(meta_parameters(config), rel=0.01)


def test_a_folder_without_safetensors_is_estimated_from_its_config(tmp_path):
    BLOOM_7B1.save_pretrained(tmp_path)
    assert parameter_count(str(tmp_path)) == estimated_parameters(BLOOM_7B1.to_dict())


def test_gpus_follow_from_size_dtype_and_gpu_memory():
    llama = 68_976_648_192  # Llama-2-70B
    bf16 = model_job_resources(llama, {"compute": "bfloat16"}, CLUSTER)
    # 69e9 parameters x 2 bytes = 128.5 GiB, x 1.25 = 160.6 GiB: three 80 GB GPUs
    assert bf16["gpu"] == 3 and bf16["gpu_model"] is None
    assert model_job_resources(llama, {"compute": "float32"}, CLUSTER)["gpu"] == 5  # 321 GiB
    assert model_job_resources(llama, {"compute": "float32"}, {**CLUSTER, "gpus_per_node": 4})["gpu"] == 4
    assert model_job_resources(llama, {"compute": "auto"}, {**CLUSTER, "gpu_memory_gb": 40})["gpu"] == 5
    small = model_job_resources(270_000_000, {"compute": "auto"}, {**CLUSTER, "gpu_model": "a100"})
    assert small["gpu"] == 1 and small["gpu_model"] == "a100"
    assert bf16["mem_mb"] == 1000 * math.ceil((4000 + 1.25 * llama * 2 / 2**20) / 1000)
    assert bf16["runtime"] == math.ceil(60 + 20 * llama / 1e9)


def test_cpu_jobs_ask_for_no_gpu_and_more_time():
    on_cpu = model_job_resources(7_000_000_000, {"device": "cpu", "compute": "auto"}, {**CLUSTER, "gpu_model": "a"})
    assert on_cpu["gpu"] == 0 and on_cpu["gpu_model"] is None
    assert on_cpu["mem_mb"] == 1000 * math.ceil((4000 + 1.25 * 7e9 * 4 / 2**20) / 1000)  # float32 on CPUs
    assert on_cpu["runtime"] == 120 + 120 * 7
    assert model_job_resources(7_000_000_000, {"gpus": 0}, CLUSTER)["gpu"] == 0
    assert model_job_resources(7_000_000_000, {"gpus": 2, "device": "cpu"}, CLUSTER)["gpu"] == 2  # explicit wins


def test_each_retry_doubles_memory_and_time():
    first, second = (model_job_resources(10**9, {}, CLUSTER, attempt) for attempt in (1, 2))
    assert second["gpu"] == first["gpu"]
    assert second["mem_mb"] == 1000 * math.ceil(2 * (4000 + 1.25 * 2e9 / 2**20) / 1000)
    assert second["runtime"] == math.ceil(2 * (60 + 20))


@pytest.mark.parametrize("cores, threads", [(8, 4), (2, 1), (3, 1), (1, 1), (16, 8)])
def test_local_model_jobs_take_half_the_cores(cores, threads):
    assert local_model_threads(cores) == threads


@pytest.mark.parametrize(
    "threads, cpus, cores, real",
    [
        (4, 2, 8, 1),  # --cores 8 on 2 CPUs: two model jobs side by side get one CPU each
        (8, 2, 8, 2),  # a whole-machine job gets every CPU
        (2, 2, 8, 1),  # a quarter of two CPUs rounds down, but never to none
        (4, 16, 8, 4),  # --cores below the CPU count: the threads Snakemake gave
        (8, 2, None, 2),  # no cores known (a cluster node): at most the CPUs there are
        (16, 4, 4, 4),
    ],
)
def test_a_job_uses_its_share_of_the_real_cpus(threads, cpus, cores, real):
    assert real_threads(threads, cpus, cores) == real
