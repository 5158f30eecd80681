"""linguafranca: where multilingual language models keep their languages, neuron by neuron.

The package holds every computation of the Snakemake workflow, so that tests and notebooks can import it.
Stage modules, one per step: ``capture`` (mean activations), ``similarity``, ``regions``, ``perplexity``,
``ablation``, ``generation`` and ``plots``. Shared modules that no stage owns: ``adapters`` (where the MLP
neurons live), ``models`` (loading), ``hooks`` (reading and zeroing neurons), ``tokens`` (tokenisation and the BOS
policy), ``store`` (every store reader and writer), ``tsv`` (tables), ``atomic`` (atomic writes), ``data``
(parallel text), ``config``, ``errors``, ``joblog``, ``codehash`` (the hash of the package code a workflow script
runs) and ``model_files`` (where a model's files are). A stage imports shared modules, never another stage.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("linguafranca")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"
