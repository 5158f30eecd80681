"""The probe stage's small stores, each written whole with :func:`linguafranca.io.checksummed.write_group`: token
samples (``tokens/{lang}.zarr``), concept responses (``concepts/responses/{lang}.zarr``) and concept APs
(``concepts/ap.zarr``). Their names here label the store in error messages.
"""

from __future__ import annotations

TOKEN_STORE = "token sample store"


RESPONSE_STORE = "concept response store"


CONCEPT_STORE = "concept store"
