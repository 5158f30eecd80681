"""Parallel text in, one JSON Lines file per language out: the loaders behind a config's ``datasets`` entries.

A loader (``bible``, ``textfiles``, ``table``, ``hf``) takes the entry's options and the languages and returns
lang -> list of :class:`~linguafranca.data.samples.Sample`; :func:`~linguafranca.data.prepare.prepare_dataset`
checks the result is parallel and writes it; later stages read it back with
:func:`~linguafranca.data.samples.read_jsonl`. No re-exports here: the code hash of a script follows its imports,
so importing one loader must not pull in the others.
"""
