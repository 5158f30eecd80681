# What workflow/rules/sandbox.smk needs beyond common.smk: the functions and constants its rules take.
from linguafranca.data.bible import packaged_db
from linguafranca.pipeline.sandbox_models import checkpoint_name, checkpoint_steps
from linguafranca.sandbox.corpus import training_books, training_mix
from linguafranca.sandbox.settings import TrainSettings

# The pretraining sandbox (workflow/rules/sandbox.smk).
SANDBOX = config["sandbox"]


SANDBOX_DB = SANDBOX["db"] or str(packaged_db())
"""The bible.db the sandbox trains on (an input of its jobs, so an edited file retrains)."""


SANDBOX_GPU = {"gpu": 1} if SANDBOX["device"] == "cuda" else {}
"""The training job's GPU request (the SLURM plugin's gpu resource, as model jobs ask for it); none on CPUs."""


def sandbox_settings(wildcards):
    """Every setting that changes a size's checkpoints (the tokenizer folder is an input)."""
    return asdict(TrainSettings.of(SANDBOX, SANDBOX["sizes"][wildcards.size]))


def sandbox_targets():
    """Each sandbox size's loss curve (its checkpoints are inputs of the analysis of model sandbox-{size})."""
    return expand(SANDBOX_LOSS_FIGURE, size=SANDBOX["sizes"], ext=EXTS)
