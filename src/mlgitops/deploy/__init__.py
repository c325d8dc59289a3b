"""Deploy: the Kubernetes manifests and the Argo workflow (Hera) that roll a service image out,
smoke-test it and roll back on failure, and the client that submits it to the Argo Server."""
