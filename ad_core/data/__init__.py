"""Datasets: the registry, the ``Dataset`` record and the loaders."""

from ad_core.data.base import Dataset, data_root, resolve_class
from ad_core.data.registry import DatasetInfo, dataset_info, list_datasets, load_dataset

__all__ = ["Dataset", "DatasetInfo", "data_root", "dataset_info", "list_datasets", "load_dataset",
           "resolve_class"]
