"""Readers and low-level writers: files in, validated frames out."""
