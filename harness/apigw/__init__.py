"""API Gateway's execute-api data plane: URL forms, resource routing, proxy events and responses."""
