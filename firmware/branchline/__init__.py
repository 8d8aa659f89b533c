"""branchline: firmware for a branch-office contact-center appliance."""

__version__ = "0.1.0"
