"""Sphinx configuration for sk_imbalance."""

import os
import sys
import warnings

sys.path.insert(0, os.path.abspath(".."))
os.environ.setdefault("MPLBACKEND", "Agg")

import sk_imbalance

project = "sk_imbalance"
author = "sk_imbalance developers"
copyright = "2026, sk_imbalance developers"
version = release = sk_imbalance.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

autosummary_generate = True
# Document the package's own methods (also those of its private bases), not the ones
# inherited from torch, scikit-learn's BaseEstimator or the mixins.
autodoc_default_options = {
    "members": True,
    "inherited-members": "Module,BaseEstimator,ClassifierMixin,TransformerMixin,"
    "ClassNamePrefixFeaturesOutMixin,MultiOutputMixin,Dataset,_MetadataRequester,"
    "_SetOutputMixin",
    # scikit-learn's generated metadata-routing setters (documented by scikit-learn)
    "exclude-members": "set_fit_request,set_score_request,set_predict_request,"
    "set_transform_request,set_predict_proba_request,set_partial_fit_request",
}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "_static",
    "auto_examples/*.ipynb",
    "auto_examples/*.py.md5",
    "**.zip",
]

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "reset_modules": ("matplotlib",),
}

html_theme = "pydata_sphinx_theme"
html_theme_options = {"navigation_with_keys": False}
html_static_path = []

# Examples train small networks; convergence notices are not documentation problems.
warnings.filterwarnings("ignore", message=".*maximum number of epochs.*")
