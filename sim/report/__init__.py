"""Reporting: tables for the terminal and result folders on disk. Never imports the model."""
