"""Ingestion: sources (adapters behind one interface), validation + quarantine, and the
pipeline steps (fetch -> validate -> quarantine -> write -> publish) the Lambdas wrap.

Import submodules directly; they load pandas.
"""
