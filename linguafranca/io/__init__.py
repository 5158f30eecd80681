"""Files on disk: atomic writes, TSV tables, the checksummed Zarr/HDF5 engine, and one module per store format with
its writer and its reader. Nothing here imports a stage."""
