"""The DVC pipeline as an Argo DAG: every dvc.yaml's stages, one pod each, sharing only the DVC
remote and its run-cache; a final pod writes the one dvc.lock (deploy/pipeline.yaml)."""
