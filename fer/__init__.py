"""Facial expression recognition on FER2013: data, training, tracking and registry.

Importing the package does nothing but define names; entry points configure logging.
"""

__version__ = "0.1.0"
