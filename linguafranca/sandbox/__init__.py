"""The pretraining sandbox: small multilingual causal LMs trained from scratch on Bible text, whose checkpoints go
through every analysis stage as ordinary models (docs/series.md).

``settings`` is torch-free (the workflow imports it while it parses); ``corpus``, ``tokenizer`` and ``train`` do the work.
"""
