"""Tests of the DVC pipeline compiled into an Argo DAG (deploy/pipeline.yaml)."""
