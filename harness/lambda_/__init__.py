"""The Lambda data plane: Runtime API, execution environments, pools and the Invoke API logic."""
