"""linguafranca: where multilingual language models keep their languages, neuron by neuron.

The package holds every computation of the Snakemake workflow, so that tests and notebooks can import it.
Each module is one step: ``adapters`` (where the MLP neurons live), ``models`` (loading), ``capture``
(mean activations), ``store`` (Zarr/HDF5/TSV outputs), ``data`` (parallel text), ``similarity``,
``regions``, ``perplexity``, ``ablation`` and ``plots``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("linguafranca")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"
